import { InvalidArgumentError } from "../errors.js";

/** Tracing as the standard OpenTelemetry variables ask for it; absent when off. */
export interface TracingSettings {
  /** `service.name` of every span. */
  serviceName: string;
}

export const DEFAULT_SERVICE_NAME = "portcullis";
const SUPPORTED_PROTOCOL = "http/protobuf";

/**
 * Reads the standard OpenTelemetry SDK variables. Tracing is on when
 * `OTEL_TRACES_EXPORTER` names `otlp`, or when it is unset and an OTLP
 * endpoint is; `none`, or `OTEL_SDK_DISABLED=true`, keeps it off. Only OTLP
 * over HTTP with protobuf is exported: asking for another protocol stops
 * the start rather than dropping every span unnoticed. The exporter and
 * sampler read the rest of the variables themselves (endpoint, headers,
 * timeout, `OTEL_TRACES_SAMPLER`, batch sizes).
 */
export function tracingSettings(env: Record<string, string | undefined>): { tracing?: TracingSettings; warnings: string[] } {
  const text = (name: string) => env[name]?.trim() || undefined;
  if (text("OTEL_SDK_DISABLED")?.toLowerCase() === "true") return { warnings: [] };
  const exporters = (text("OTEL_TRACES_EXPORTER") ?? "").toLowerCase().split(",").map((name) => name.trim()).filter((name) => name !== "");
  const endpoint = text("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ?? text("OTEL_EXPORTER_OTLP_ENDPOINT");
  const warnings: string[] = [];
  const unsupported = exporters.filter((name) => name !== "otlp" && name !== "none");
  if (unsupported.length > 0) {
    warnings.push(`OTEL_TRACES_EXPORTER names exporters Portcullis does not have (${unsupported.join(", ")}); only "otlp" exports traces`);
  }
  const on = exporters.includes("none") ? false : exporters.length > 0 ? exporters.includes("otlp") : endpoint !== undefined;
  if (!on) return { warnings };
  for (const name of ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"]) {
    const protocol = text(name);
    if (protocol === undefined) continue;
    if (protocol !== SUPPORTED_PROTOCOL) throw new InvalidArgumentError(name, `traces are exported as "${SUPPORTED_PROTOCOL}" only`);
    break;
  }
  return { tracing: { serviceName: text("OTEL_SERVICE_NAME") ?? DEFAULT_SERVICE_NAME }, warnings };
}
