/**
 * Every reason code a decision can carry, with the decision it comes with.
 * Decisions and credential rejections are typed with `ReasonCode`, so a
 * code missing here does not compile. The README's reason-code table and
 * docs/jwt-credentials.md document them; metrics label with these codes
 * only (test/observability/reason-codes.test.ts keeps README and list in
 * step).
 */
export const REASON_CODES = {
  ok: "allow",
  public_resource: "allow",
  dev_allow_all: "allow",
  missing_credential: "deny",
  unsupported_scheme: "deny",
  malformed_credential: "deny",
  credential_too_long: "deny",
  unknown_token: "deny",
  token_revoked: "deny",
  token_expired: "deny",
  // A token deactivated (reversibly) by an administrator.
  token_inactive: "deny",
  // The credential's owner (a user) is deactivated: every token and team it owns is refused.
  owner_disabled: "deny",
  insufficient_scope: "deny",
  tool_not_allowed: "deny",
  no_required_scope: "deny",
  no_policy: "deny",
  bad_resource: "deny",
  unknown_rule: "deny",
  host_required: "deny",
  bad_host: "deny",
  single_use_requires_jti: "deny",
  root_required: "deny",
  // A transport's refusal of the client certificate (caller identity, docs/tls.md); never an engine decision.
  caller_not_allowed: "deny",
  // JWT credentials (docs/jwt-credentials.md).
  unknown_issuer: "deny",
  unknown_key: "deny",
  ambiguous_key: "deny",
  key_retired: "deny",
  alg_none: "deny",
  alg_not_allowed: "deny",
  bad_kid: "deny",
  bad_signature: "deny",
  token_not_yet_valid: "deny",
  iat_in_future: "deny",
  wrong_audience: "deny",
  wrong_token_type: "deny",
  malformed_jwt: "deny",
  bad_jwt_header: "deny",
  bad_jwt_payload: "deny",
  bad_claim: "deny",
  missing_claim: "deny",
  token_rotated: "deny",
  team_inactive: "deny",
  unknown_team: "deny",
  lifetime_too_long: "deny",
  jti_replayed: "deny",
  invalid_token: "deny",
  already_used: "deny",
  // A rule's `when` had no true-or-false answer (README, Policy: conditions).
  condition_error: "deny",
  // Upstream tokens (docs/upstream-tokens.md), decided by Envoy's Check after the engine allowed.
  upstream_login_required: "deny",
  upstream_refresh_failed: "deny",
  upstream_token_not_permitted: "deny",
} as const satisfies Record<string, "allow" | "deny">;

export type ReasonCode = keyof typeof REASON_CODES;

/** The codes that come with one decision. */
export function reasonCodesOf(decision: "allow" | "deny"): ReasonCode[] {
  return (Object.keys(REASON_CODES) as ReasonCode[]).filter((code) => REASON_CODES[code] === decision);
}
