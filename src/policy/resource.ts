import { readHost, type HostReading } from "./host.js";
import { readPath } from "./path.js";

/**
 * What a request reaches, parsed from strings such as "GET /api/x" or
 * "tool:search". `path` is the decoded reading every decoder agrees on.
 */
export type Resource =
  | { kind: "http"; method: string; path: string; host?: HostReading }
  | { kind: "tool"; name: string; host?: HostReading };

export type ResourceParse = { resource: Resource } | { reason: "bad_resource"; detail: string };

/**
 * The host a request names. A transport that carries it in several places
 * (Envoy's `host` and `:authority`) gives every spelling: they must agree.
 */
export type RequestHost = string | readonly string[];

const METHOD = /^[A-Za-z]{1,20}$/;
const TOOL_NAME = /^[\x21-\x7e]{1,256}$/;
const ESCAPE = /%[0-9a-f]{2}/i;
const MAX_RESOURCE_LENGTH = 8192;

/**
 * Parses a resource string. Paths that could mean different things to
 * Portcullis and to the upstream are refused rather than normalized (see
 * readPath): a rule must never be bypassed by spelling. The host is read but
 * never refuses the resource: it matters only where a rule names a host.
 */
export function parseResource(text: string, host?: RequestHost): ResourceParse {
  if (text.length > MAX_RESOURCE_LENGTH) return bad("resource is too long");
  if (text.startsWith("tool:")) {
    const name = text.slice("tool:".length);
    const problem = toolNameProblem(name);
    if (problem !== undefined) return bad(problem);
    const resource: Resource = { kind: "tool", name };
    const reading = hostReading(host);
    if (reading !== undefined) resource.host = reading;
    return { resource };
  }
  const space = text.indexOf(" ");
  if (space === -1) return bad('expected "<METHOD> <path>" or "tool:<name>"');
  const method = text.slice(0, space);
  if (!METHOD.test(method)) return bad("method is not a token");
  const path = readPath(stripQuery(text.slice(space + 1)));
  if ("problem" in path) return bad(path.problem);
  const resource: Resource = { kind: "http", method: method.toUpperCase(), path: path.path };
  const reading = hostReading(host);
  if (reading !== undefined) resource.host = reading;
  return { resource };
}

/**
 * Tool names are matched as written, so anything a decoder would read
 * differently (a percent escape) is refused, as are dot segments.
 */
export function toolNameProblem(name: string): string | undefined {
  if (!TOOL_NAME.test(name)) return "tool name is empty or has spaces";
  if (ESCAPE.test(name)) return "tool name has a percent escape";
  if (name.split("/").some((part) => part === "." || part === "..")) return "tool name has a dot segment";
  return undefined;
}

/** No host (absent or empty), or the one host every spelling names. */
function hostReading(host: RequestHost | undefined): HostReading | undefined {
  if (host === undefined) return undefined;
  const spellings = typeof host === "string" ? [host] : (host ?? []);
  const named = spellings.filter((spelling) => spelling !== "");
  if (named.length === 0) return undefined;
  if (named.length !== spellings.length || named.some((spelling) => spelling !== named[0])) {
    return { malformed: "the request names different hosts" };
  }
  return readHost(named[0]!);
}

/** A request target without its query and fragment. */
export function stripQuery(target: string): string {
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

function bad(detail: string): ResourceParse {
  return { reason: "bad_resource", detail };
}
