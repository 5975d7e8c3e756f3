import { AsyncLocalStorage } from "node:async_hooks";
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from "@opentelemetry/api";
import { traceParentReader } from "./trace-parent.js";
import type { Tracing } from "./tracing.js";

/**
 * `Tracing` on an OpenTelemetry tracer. The active server span is kept in an
 * AsyncLocalStorage of this instance rather than in OpenTelemetry's global
 * context manager, so two servers in one process (tests) never see each
 * other's spans, and nothing global is registered.
 */
export function tracingWith(tracer: Tracer): Tracing {
  const active = new AsyncLocalStorage<Context>();
  const parentOf = traceParentReader();
  return {
    server(name, headers, work) {
      const span = tracer.startSpan(name, { kind: SpanKind.SERVER }, parentOf(headers));
      return active.run(trace.setSpan(ROOT_CONTEXT, span), () => ended(span, work(span)));
    },

    child(name, kind, attributes, work) {
      const parent = active.getStore();
      if (parent === undefined) return work();
      const span = tracer.startSpan(name, { kind: kind === "client" ? SpanKind.CLIENT : SpanKind.INTERNAL, attributes }, parent);
      let result: ReturnType<typeof work>;
      try {
        result = work();
      } catch (error) {
        failed(span, error);
        span.end();
        throw error;
      }
      if (result instanceof Promise) return ended(span, result) as typeof result;
      span.end();
      return result;
    },
  };
}

function ended<T>(span: Span, work: Promise<T>): Promise<T> {
  return work.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      failed(span, error);
      span.end();
      throw error;
    },
  );
}

/** Only the error's type: its message could quote request input. */
function failed(span: Span, error: unknown): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.constructor.name : typeof error });
}
