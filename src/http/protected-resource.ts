import { Type, type Static } from "@sinclair/typebox";
import { section } from "../settings-schema/schema-kit.js";
import { httpUrl } from "../http-semantics/http-url.js";
import { readOnlyRoute, type Route } from "./route-table.js";

const WELL_KNOWN = "/.well-known/oauth-protected-resource";

const urlField = (description: string) => Type.String({ description, "x-message": "must be a URL" });
const stringList = (description: string) => Type.Array(Type.String(), { description, "x-message": "must be a list of strings" });

/** RFC 9728 §2 parameters, by JSON type; anything else is a typo and refused. */
export const protectedResourceSchema = section(
  {
    env: "PORTCULLIS_PROTECTED_RESOURCE",
    envFormat: "yaml",
    defaultText: "none: not served",
    description: "RFC 9728 protected-resource metadata served at `/.well-known/oauth-protected-resource` (the variable holds YAML or JSON)",
  },
  {
    jwks_uri: urlField("URL of the resource's JWK set"),
    resource_documentation: urlField("URL of human-readable documentation"),
    resource_policy_uri: urlField("URL of the resource's policy"),
    resource_tos_uri: urlField("URL of the resource's terms of service"),
    resource_name: Type.String({ description: "human-readable name", "x-message": "must be a string" }),
    authorization_servers: stringList("issuer URLs of the authorization servers"),
    scopes_supported: stringList("scopes the resource knows"),
    bearer_methods_supported: stringList("ways a bearer token may be sent"),
    resource_signing_alg_values_supported: stringList("JWS algorithms of signed responses"),
    authorization_details_types_supported: stringList("RFC 9396 authorization details types"),
    dpop_signing_alg_values_supported: stringList("JWS algorithms for DPoP proofs"),
    tls_client_certificate_bound_access_tokens: Type.Boolean({ description: "RFC 8705 certificate-bound tokens", "x-message": "must be true or false" }),
    dpop_bound_access_tokens_required: Type.Boolean({ description: "DPoP-bound tokens required", "x-message": "must be true or false" }),
  },
  { resource: urlField("the resource's identifier, an http(s) URL") },
);

/** RFC 9728 protected-resource metadata, written as served (snake_case). */
export type ProtectedResourceMetadata = Static<typeof protectedResourceSchema>;

const URL_FIELDS = ["resource", "jwks_uri", "resource_documentation", "resource_policy_uri", "resource_tos_uri"] as const;

/** Checks the URLs of the `protected_resource` setting, whose shape the schema has checked. */
export function protectedResourceMetadata(field: string, value: ProtectedResourceMetadata): ProtectedResourceMetadata {
  for (const name of URL_FIELDS) {
    const url = value[name];
    if (url !== undefined) httpUrl(`${field}.${name}`, url);
  }
  value.authorization_servers?.forEach((item, index) => httpUrl(`${field}.authorization_servers[${index}]`, item));
  return value;
}

/**
 * Serves the metadata at /.well-known/oauth-protected-resource and, for a
 * resource with a path, at the RFC 9728 §3.1 location with that path
 * appended, so MCP clients can discover the authorization server. Public,
 * like the probes; no route when no metadata is configured.
 */
export function protectedResourceRoutes(metadata: ProtectedResourceMetadata | undefined): Route[] {
  if (metadata === undefined) return [];
  const resourcePath = new URL(metadata.resource).pathname.replace(/\/$/, "");
  const body = JSON.stringify(metadata);
  const route = readOnlyRoute([WELL_KNOWN, `${WELL_KNOWN}${resourcePath}`], (request, response) => {
    response.writeHead(200, {
      "content-type": "application/json",
      "cache-control": "max-age=300",
      // Public metadata that browser-based clients fetch cross-origin.
      "access-control-allow-origin": "*",
    });
    response.end(request.method === "HEAD" ? "" : body);
  });
  return [route];
}
