/** What a request reaches, parsed from strings such as "GET /api/x" or "tool:search". */
export type Resource =
  | { kind: "http"; method: string; path: string; host?: string }
  | { kind: "tool"; name: string };

export type ResourceParse = { resource: Resource } | { reason: "bad_resource"; detail: string };

const METHOD = /^[A-Za-z]{1,20}$/;
const TOOL_NAME = /^[\x21-\x7e]{1,256}$/;
const MAX_RESOURCE_LENGTH = 8192;
const UNRESERVED_ESCAPE = /%(3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|5f|7e)/i;

/**
 * Parses a resource string. Paths that could mean different things to
 * Portcullis and to the upstream (dot segments, encoded slashes, dots or
 * backslashes, encoded characters that need no encoding, malformed escapes,
 * path parameters, empty segments, control characters) are refused rather than
 * normalized: a rule must never be bypassed by spelling.
 */
export function parseResource(text: string, host?: string): ResourceParse {
  if (text.length > MAX_RESOURCE_LENGTH) return bad("resource is too long");
  if (text.startsWith("tool:")) {
    const name = text.slice("tool:".length);
    return TOOL_NAME.test(name) ? { resource: { kind: "tool", name } } : bad("tool name is empty or has spaces");
  }
  const space = text.indexOf(" ");
  if (space === -1) return bad('expected "<METHOD> <path>" or "tool:<name>"');
  const method = text.slice(0, space);
  if (!METHOD.test(method)) return bad("method is not a token");
  const path = stripQuery(text.slice(space + 1));
  const problem = pathProblem(path);
  if (problem !== undefined) return bad(problem);
  const resource: Resource = { kind: "http", method: method.toUpperCase(), path };
  if (host !== undefined && host !== "") resource.host = normalizeHost(host);
  return { resource };
}

/** Host names compare case-insensitively, without a port and without the root label's trailing dot. */
export function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
}

/** A request target without its query and fragment. */
export function stripQuery(target: string): string {
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

/** Why a request path (or a path in a policy rule) is refused; undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "path must start with /";
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f\\]/.test(path)) return "path has spaces, control characters or backslashes";
  if (/%(?![0-9a-f]{2})/i.test(path)) return "path has a malformed percent escape";
  if (/%(2f|5c|2e|00)/i.test(path)) return "path has an encoded slash, backslash, dot or NUL";
  // Servlet containers and others drop ";params" from segments, so "/admin;x" would be "/admin" there.
  if (/;|%3b/i.test(path)) return "path has a ; (path parameters)";
  // An upstream decodes these to the plain character, so "/%61dmin" would be "/admin" there but not here.
  if (UNRESERVED_ESCAPE.test(path)) return "path has a percent-encoded letter, digit, -, _ or ~";
  const segments = path.split("/").slice(1);
  if (segments.slice(0, -1).some((segment) => segment === "")) return "path has an empty segment";
  if (segments.some((segment) => segment === "." || segment === "..")) return "path has a dot segment";
  return undefined;
}

function bad(detail: string): ResourceParse {
  return { reason: "bad_resource", detail };
}
