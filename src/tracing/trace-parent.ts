import { ROOT_CONTEXT, type Context, type TextMapGetter } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import type { TraceHeaders } from "./tracing.js";

/**
 * Reads the W3C `traceparent` and `tracestate` out of a call's headers.
 * Whatever cannot be read as one valid `traceparent` (absent, malformed,
 * all-zero ids, sent twice) yields the root context, so the span starts a
 * new trace: a caller's trace header never fails or changes a decision.
 */
export function traceParentReader(): (headers: TraceHeaders | undefined) => Context {
  const propagator = new W3CTraceContextPropagator();
  return (headers) => (headers === undefined ? ROOT_CONTEXT : propagator.extract(ROOT_CONTEXT, headers, HEADER_GETTER));
}

const HEADER_GETTER: TextMapGetter<TraceHeaders> = {
  get(headers, name) {
    if (typeof headers === "function") return headers(name);
    // A Web Headers joins repeated headers with ", ": a traceparent sent twice then fails to parse, as it should.
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const value = headers[name];
    if (!Array.isArray(value)) return value;
    return value.length === 1 ? value[0] : undefined;
  },
  // The W3C propagator reads the two names it knows and never lists keys.
  keys: () => [],
};
