import { fetch, type Dispatcher, type RequestInit, type Response } from "undici";
import { UnavailableError } from "../errors.js";
import { hasDuplicateMemberNames } from "../json-member-names.js";
import { AddressRefusedError } from "./guarded-dispatcher.js";

/** Limits on every request to an upstream server (authorization server, identity provider). */
export interface HttpLimits {
  timeoutMs: number;
  maxBytes: number;
  /** Where connections are made; absent: undici's default, which dials whatever a name resolves to. */
  dispatcher?: Dispatcher;
}

/**
 * An upstream failure that happened before the request left this process
 * (the connection was refused or never allowed, the name did not resolve):
 * the server saw nothing, so whatever the request carried (an authorization
 * code) is still unspent.
 */
export class UnreachableError extends UnavailableError {}

/** Failure codes that only happen before a request is written. */
const BEFORE_SENDING = new Set([
  "UPSTREAM_ADDRESS_REFUSED",
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
]);

export interface BoundedResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/**
 * fetch with a deadline covering the whole exchange (body included) and a
 * cap on the body. Failures become UnavailableError whose message names the
 * endpoint (origin and path only: a query could carry a secret) and what
 * went wrong, never a body.
 */
export async function boundedFetch(url: string, init: RequestInit, limits: HttpLimits, what: string): Promise<BoundedResponse> {
  const where = `${what} (${endpointName(url)})`;
  const signal = AbortSignal.timeout(limits.timeoutMs);
  try {
    const response = await fetch(url, { ...init, signal, dispatcher: limits.dispatcher });
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > limits.maxBytes) {
      await response.body?.cancel();
      throw new UnavailableError(`${where} answered with more than ${limits.maxBytes} bytes`);
    }
    return { status: response.status, headers: response.headers, body: await readCapped(response, limits.maxBytes, where) };
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    if (signal.aborted) throw new UnavailableError(`${where} did not answer within ${limits.timeoutMs} ms`);
    // undici's errors quote the whole URL (credentials and query too): never kept as the cause.
    const code = networkCode(error);
    const failure = BEFORE_SENDING.has(code ?? "") ? UnreachableError : UnavailableError;
    const name = error instanceof Error ? error.name : "unknown failure";
    throw new failure(`${where} could not be reached (${code ?? "network error"})`, {
      detail: `${name}${code === undefined ? "" : ` (${code})`} at ${endpointName(url)}${refusalOf(error)}`,
    });
  }
}

/**
 * The body as a JSON object; undefined when it is not one, or when some
 * object in it names a member twice (a key set or token answer that two
 * parsers would read differently is no answer).
 */
export function jsonObject(response: BoundedResponse): Record<string, unknown> | undefined {
  try {
    const text = response.body.toString("utf8");
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed) || hasDuplicateMemberNames(text)) return undefined;
    return parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * GETs the JSON object at exactly `url`. A redirect is not followed: a key
 * set or metadata document is trusted for where it was configured or
 * discovered, not for wherever that place points. A failing server (5xx,
 * unreachable, too slow, too large) is UnavailableError; any other answer
 * comes back as its status without a document, for the caller to judge.
 */
export async function getJsonObject(
  url: string,
  limits: HttpLimits,
  what: string,
): Promise<{ status: number; document: Record<string, unknown> | undefined }> {
  const response = await boundedFetch(url, { headers: { accept: "application/json" }, redirect: "manual" }, limits, what);
  if (response.status >= 500) throw new UnavailableError(`${what} (${endpointName(url)}) answered HTTP ${response.status}`);
  return { status: response.status, document: response.status === 200 ? jsonObject(response) : undefined };
}

/** Origin and path only: a query could carry a secret. */
export function endpointName(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return "invalid URL";
  }
}

async function readCapped(response: Response, maxBytes: number, where: string): Promise<Buffer> {
  if (response.body === null) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(chunks);
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      throw new UnavailableError(`${where} answered with more than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
}

/** Why the address guard refused the connection (its message names the address, never the URL). */
function refusalOf(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof AddressRefusedError ? `: ${cause.message}` : "";
}

/** The system error code (ECONNREFUSED, ENOTFOUND, …) behind a failed fetch, if there is one. */
function networkCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } }).cause;
  return typeof cause?.code === "string" ? cause.code : undefined;
}
