import type { Attributes, Span } from "@opentelemetry/api";

/**
 * The request headers a decision's trace parent is read from: a call's
 * HTTP/2 headers as node:http2 hands them over, a Web `Headers` (connect-node's
 * `requestHeader`), or a lookup by lower-case name (the headers inside an
 * Envoy CheckRequest). Transports pass what they already hold; nothing is
 * read from it unless tracing is on.
 */
export type TraceHeaders =
  | Headers
  | Readonly<Record<string, string | string[] | undefined>>
  | ((name: string) => string | undefined);

/**
 * Spans, as the parts see them. The wiring hands a part a `Tracing` only
 * when tracing is on; without one a part runs exactly as it did before, so
 * the untraced path builds no span, no attributes and reads no header.
 */
export interface Tracing {
  /**
   * Runs `work` in a new SERVER span, the child of the trace `headers` name
   * (`traceparent`, `tracestate`); a new root when they name none, or a
   * malformed one. The span is the parent of every `child` span started
   * while `work` runs, and ends when it settles; a throw marks it failed.
   */
  server<T>(name: string, headers: TraceHeaders | undefined, work: (span: Span) => Promise<T>): Promise<T>;
  /**
   * Runs `work` in a span under the server span active at the call; with none
   * active (start-up, background work), runs it untraced. `attributes` are
   * the caller's own constants, built once, never request input.
   */
  child<T>(name: string, kind: "client" | "internal", attributes: Attributes, work: () => T): T;
}

/** The span attribute names Portcullis sets, in one place. */
export const SPAN_ATTRIBUTES = {
  decision: "portcullis.decision",
  reason: "portcullis.reason",
  rule: "portcullis.rule",
  credentialType: "portcullis.credential_type",
  outcome: "portcullis.outcome",
  storeBackend: "portcullis.store.backend",
  storeOperation: "portcullis.store.operation",
  jwksEndpoint: "portcullis.jwks.endpoint",
} as const;
