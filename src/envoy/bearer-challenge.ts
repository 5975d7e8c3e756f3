/** What goes into every Bearer challenge Portcullis writes. */
export interface ChallengeSettings {
  realm: string;
  /** RFC 9728 protected-resource metadata URL, so clients can find the authorization server. */
  resourceMetadataUrl?: string;
  /** Where a user logs in to an upstream, by upstream id (`upstream_tokens.login_urls`), for `upstream_login_required`. */
  upstreamLoginUrls?: ReadonlyMap<string, string>;
}

/** Reasons that mean no bearer token was presented at all (RFC 6750 §3.1: no error code then). */
const NO_TOKEN_REASONS = new Set(["missing_credential", "unsupported_scheme"]);

/**
 * `WWW-Authenticate` for a 401: `error="invalid_token"` only when a bearer
 * token was presented. An `upstream_login_required` denial for an upstream
 * with a configured login URL also says so (`error_description`) and where
 * to log in (`login_uri`), so a client can send its user there.
 */
export function unauthenticatedChallenge(settings: ChallengeSettings, reason: string, upstreamId?: string): string {
  const loginUri = reason === "upstream_login_required" && upstreamId !== undefined ? settings.upstreamLoginUrls?.get(upstreamId) : undefined;
  return bearerChallenge([
    ["realm", settings.realm],
    ["error", NO_TOKEN_REASONS.has(reason) ? undefined : "invalid_token"],
    ["error_description", loginUri === undefined ? undefined : reason],
    ["login_uri", loginUri],
    ["resource_metadata", settings.resourceMetadataUrl],
  ]);
}

/** `WWW-Authenticate` for a 403 a broader scope would cure (RFC 6750 §3.1; MCP clients step up on it). */
export function insufficientScopeChallenge(settings: ChallengeSettings, scope: string): string {
  return bearerChallenge([
    ["realm", settings.realm],
    ["error", "insufficient_scope"],
    ["scope", scope],
    ["resource_metadata", settings.resourceMetadataUrl],
  ]);
}

function bearerChallenge(params: [string, string | undefined][]): string {
  const written = params.filter(([, value]) => value !== undefined).map(([name, value]) => `${name}=${quoted(value!)}`);
  return `Bearer ${written.join(", ")}`;
}

/** RFC 9110 quoted-string; control characters cannot be quoted and are dropped, never passed into a header. */
function quoted(value: string): string {
  // eslint-disable-next-line no-control-regex
  return `"${value.replace(/[\x00-\x08\x0a-\x1f\x7f]/g, "").replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
