import type { DecisionRequest } from "../decision/decision.js";
import type { TraceHeaders } from "../tracing/tracing.js";

/**
 * The parts of a CheckRequest a decision reads: a protobuf-es CheckRequest
 * is one, and so is what `readCheckRequest` (check-request-decoder.ts) reads
 * from the common messages without building the whole message.
 */
export interface CheckRequestFields {
  readonly attributes?: {
    readonly source?: { readonly address?: { readonly address: SourceAddress } };
    readonly request?: { readonly http?: HttpRequestFields };
    readonly contextExtensions: { readonly [key: string]: string };
  };
}

type SourceAddress = { readonly case: "socketAddress"; readonly value: { readonly address: string } } | { readonly case: undefined };

/** The HTTP attributes of the checked request, as Envoy sends them. */
export interface HttpRequestFields {
  readonly method: string;
  readonly path: string;
  readonly host: string;
  readonly headers: { readonly [name: string]: string };
  readonly headerMap?: { readonly headers: readonly { readonly key: string; readonly value: string; readonly rawValue: Uint8Array }[] };
}

/**
 * Keys of Envoy's per-route `context_extensions` that Portcullis reads; route
 * config chooses the policy with them. Other keys are ignored.
 */
export const CONTEXT_EXTENSIONS = {
  /** Replaces the scope the policy asks for (present-but-empty denies). */
  requiredScope: "required_scope",
  /** Picks a policy rule by name instead of matching method and path. */
  rule: "rule",
  /** The route reaches this tool: the resource becomes "tool:<name>". */
  tool: "tool",
} as const;

/** The engine's question, read from the HTTP attributes Envoy sends. */
export function decisionRequestOf(check: CheckRequestFields): DecisionRequest {
  const http = check.attributes?.request?.http;
  const extensions = check.attributes?.contextExtensions ?? {};
  const tool = extensions[CONTEXT_EXTENSIONS.tool];
  return {
    authorization: http === undefined ? "" : (headerOf(http, "authorization") ?? ""),
    // A missing method or path fails resource parsing: a denial, never a guess.
    resource: tool !== undefined ? `tool:${tool}` : http === undefined ? " " : `${agreed(http, "method")} ${agreed(http, "path")}`,
    host: http === undefined ? undefined : hostSpellings(http),
    requiredScope: extensions[CONTEXT_EXTENSIONS.requiredScope],
    ruleName: extensions[CONTEXT_EXTENSIONS.rule],
    headers: http === undefined ? undefined : headersOf(http),
    sourceAddress: sourceAddressOf(check),
  };
}

/** Every request header, by lower-case name, read as the credential is (`headerOf`). */
function headersOf(http: HttpRequestFields): Map<string, string> {
  const headers = new Map<string, string>();
  for (const key of Object.keys(http.headers)) addHeader(headers, http, key);
  for (const header of http.headerMap?.headers ?? []) addHeader(headers, http, header.key);
  return headers;
}

/** `key`'s header under its lower-case name, unless a spelling of it is there already. */
function addHeader(headers: Map<string, string>, http: HttpRequestFields, key: string): void {
  const name = key.toLowerCase();
  if (headers.has(name)) return;
  const value = headerOf(http, name);
  if (value !== undefined) headers.set(name, value);
}

/** The downstream client's IP address, when Envoy sent a socket address. */
function sourceAddressOf(check: CheckRequestFields): string | undefined {
  const address = check.attributes?.source?.address?.address;
  return address?.case === "socketAddress" ? address.value.address : undefined;
}

/**
 * Where a Check's trace parent is read. The checked request's own
 * `traceparent` (among the headers Envoy forwards in the CheckRequest) names
 * the end user's request, the trace the gateway is part of, so it wins, with
 * the `tracestate` beside it; without one, the Check call's own gRPC metadata
 * (Envoy's ext_authz client span, when Envoy traces). One source is chosen
 * whole: a `tracestate` never joins another source's `traceparent`.
 */
export function traceHeadersOf(check: CheckRequestFields, callHeaders: TraceHeaders | undefined): TraceHeaders | undefined {
  const http = check.attributes?.request?.http;
  if (http !== undefined && headerOf(http, "traceparent") !== undefined) return (name) => headerOf(http, name);
  return callHeaders;
}

/**
 * Every place a CheckRequest names the host: Envoy copies `:authority` into
 * `host`, so spellings that differ come from no real Envoy and deny where a
 * host matters, rather than letting one of them win.
 */
function hostSpellings(http: HttpRequestFields): string[] {
  const authority = headerOf(http, ":authority");
  const host = headerOf(http, "host");
  const spellings = [http.host];
  if (authority !== undefined) spellings.push(authority);
  if (host !== undefined) spellings.push(host);
  return spellings;
}

/**
 * Envoy fills `method` and `path` from the `:method` and `:path` pseudo-headers
 * it also sends; a CheckRequest where they differ comes from no real Envoy,
 * and deciding on either one could let the upstream act on the other. Empty
 * here, so the resource is refused (`bad_resource`).
 */
function agreed(http: HttpRequestFields, attribute: "method" | "path"): string {
  const header = headerOf(http, `:${attribute}`);
  return header === undefined || header === http[attribute] ? http[attribute] : "";
}

/**
 * A request header by lower-case name, from `headers` or, when Envoy sends
 * raw headers (`encode_raw_headers`), from `header_map`. Repeated headers
 * are joined with "," as Envoy joins them in `headers`, so two Authorization
 * headers never pass as one credential.
 */
function headerOf(http: HttpRequestFields, name: string): string | undefined {
  const joined: unknown = http.headers[name];
  // `headers` is a plain object: "constructor" or "__proto__" would find Object.prototype's members, never a header.
  if (typeof joined === "string") return joined;
  const raw = http.headerMap?.headers;
  // Most CheckRequests carry no header_map: a header they lack costs no search and no arrays.
  if (raw === undefined || raw.length === 0) return undefined;
  const values = raw
    .filter((header) => header.key.toLowerCase() === name)
    .map((header) => (header.rawValue.length > 0 ? Buffer.from(header.rawValue).toString("latin1") : header.value));
  return values.length === 0 ? undefined : values.join(",");
}
