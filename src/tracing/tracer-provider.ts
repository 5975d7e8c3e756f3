import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { ExportResultCode } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { Logger } from "pino";
import { tracingWith } from "./traced-spans.js";
import type { Tracing } from "./tracing.js";
import type { TracingSettings } from "./tracing-settings.js";

/** Tracing with the provider behind it, for the wiring that stops it. */
export interface RunningTracing {
  readonly tracing: Tracing;
  /** Exports what is still buffered, within a bound, and stops the exporter. */
  shutdown(): Promise<void>;
}

export interface TracingParts {
  /** Replaces the batching OTLP export (tests: a SimpleSpanProcessor on an InMemorySpanExporter). */
  spanProcessor?: SpanProcessor;
}

/** A collector that does not answer must not hold a stopping server for the exporter's own 10 s timeout. */
const SHUTDOWN_LIMIT_MS = 3000;

/**
 * Builds the tracer provider: `service.name` from the settings, the sampler
 * from `OTEL_TRACES_SAMPLER`/`_ARG` (parent-based always-on by default, so a
 * gateway's sampling decision is followed), spans batched to the OTLP/HTTP
 * exporter, which reads its endpoint and headers from the OTEL_EXPORTER_OTLP_* variables.
 */
export function startTracing(settings: TracingSettings, log: Logger, parts: TracingParts = {}): RunningTracing {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName }),
    spanProcessors: [parts.spanProcessor ?? new BatchSpanProcessor(reportingFailures(new OTLPTraceExporter(), log))],
  });
  return {
    tracing: tracingWith(provider.getTracer("portcullis")),
    async shutdown() {
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((settle) => {
        timer = setTimeout(() => {
          log.warn({ limitMs: SHUTDOWN_LIMIT_MS }, "tracing: spans not exported before the shutdown limit are dropped");
          settle();
        }, SHUTDOWN_LIMIT_MS);
      });
      const done = provider.shutdown().catch((error: unknown) => log.warn({ reason: describe(error) }, "tracing: shutdown failed"));
      await Promise.race([done, limit]);
      clearTimeout(timer);
    },
  };
}

/**
 * The SDK reports a failed export only to OpenTelemetry's global diagnostic
 * logger, which is silent: the first failure and the recovery are logged
 * here instead, once each, so a collector that is down is noticed without a
 * line per batch.
 */
function reportingFailures(exporter: SpanExporter, log: Logger): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code === ExportResultCode.FAILED && !failing) {
          failing = true;
          log.warn({ reason: describe(result.error) }, "tracing: exporting spans failed; spans are dropped until the collector answers");
        } else if (result.code === ExportResultCode.SUCCESS && failing) {
          failing = false;
          log.info("tracing: exporting spans again");
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : "unknown error";
}
