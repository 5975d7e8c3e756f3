import { InvalidArgumentError } from "../errors.js";
import { httpUrl } from "./http-url.js";
import type { RequestHandler } from "./listener.js";

/** RFC 9728 protected-resource metadata, written as served (snake_case). */
export type ProtectedResourceMetadata = { resource: string } & Record<string, string | string[] | boolean>;

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

// RFC 9728 §2 parameters, by JSON type; anything else is a typo and refused.
const URL_FIELDS = new Set(["resource", "jwks_uri", "resource_documentation", "resource_policy_uri", "resource_tos_uri"]);
const STRING_FIELDS = new Set(["resource_name"]);
const URL_LIST_FIELDS = new Set(["authorization_servers"]);
const STRING_LIST_FIELDS = new Set([
  "scopes_supported",
  "bearer_methods_supported",
  "resource_signing_alg_values_supported",
  "authorization_details_types_supported",
  "dpop_signing_alg_values_supported",
]);
const BOOLEAN_FIELDS = new Set(["tls_client_certificate_bound_access_tokens", "dpop_bound_access_tokens_required"]);

/** Checks the `protected_resource` setting; `resource` is required. */
export function protectedResourceMetadata(field: string, value: unknown): ProtectedResourceMetadata {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgumentError(field, "must be a mapping");
  const entries = Object.entries(value as Record<string, unknown>);
  for (const [name, entry] of entries) {
    const where = `${field}.${name}`;
    if (URL_FIELDS.has(name)) {
      if (typeof entry !== "string") throw new InvalidArgumentError(where, "must be a URL");
      httpUrl(where, entry);
    } else if (STRING_FIELDS.has(name)) {
      if (typeof entry !== "string") throw new InvalidArgumentError(where, "must be a string");
    } else if (URL_LIST_FIELDS.has(name) || STRING_LIST_FIELDS.has(name)) {
      if (!Array.isArray(entry) || !entry.every((item) => typeof item === "string")) {
        throw new InvalidArgumentError(where, "must be a list of strings");
      }
      if (URL_LIST_FIELDS.has(name)) entry.forEach((item: string, index) => httpUrl(`${where}[${index}]`, item));
    } else if (BOOLEAN_FIELDS.has(name)) {
      if (typeof entry !== "boolean") throw new InvalidArgumentError(where, "must be true or false");
    } else {
      throw new InvalidArgumentError(where, "is not an RFC 9728 metadata parameter");
    }
  }
  if (!("resource" in value)) throw new InvalidArgumentError(`${field}.resource`, "is required");
  return value as ProtectedResourceMetadata;
}

/**
 * Serves the metadata at /.well-known/oauth-protected-resource and, for a
 * resource with a path, at the RFC 9728 §3.1 location with that path
 * appended, so MCP clients can discover the authorization server. Public,
 * like the probes; everything else goes to `next`.
 */
export function withProtectedResource(metadata: ProtectedResourceMetadata | undefined, next: RequestHandler): RequestHandler {
  if (metadata === undefined) return next;
  const resourcePath = new URL(metadata.resource).pathname.replace(/\/$/, "");
  const paths = new Set([WELL_KNOWN, `${WELL_KNOWN}${resourcePath}`]);
  const body = JSON.stringify(metadata);
  return (request, response) => {
    if (!paths.has(request.url?.split("?")[0] ?? "")) return next(request, response);
    if (request.method !== "GET" && request.method !== "HEAD") {
      response.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    response.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "max-age=300",
      // Public metadata that browser-based clients fetch cross-origin.
      "access-control-allow-origin": "*",
    });
    response.end(request.method === "HEAD" ? "" : body);
  };
}
