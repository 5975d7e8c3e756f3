/**
 * Every reason code a decision can carry, with the decision it comes with.
 * The README's reason-code table documents the same set; metrics label
 * with these codes only, so a new code has to be added here to be counted
 * by name (test/observability/reason-codes.test.ts keeps README and list in
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
  insufficient_scope: "deny",
  tool_not_allowed: "deny",
  no_required_scope: "deny",
  no_policy: "deny",
  bad_resource: "deny",
  unknown_rule: "deny",
  single_use_requires_jti: "deny",
} as const satisfies Record<string, "allow" | "deny">;

export type ReasonCode = keyof typeof REASON_CODES;

/** The codes that come with one decision. */
export function reasonCodesOf(decision: "allow" | "deny"): ReasonCode[] {
  return (Object.keys(REASON_CODES) as ReasonCode[]).filter((code) => REASON_CODES[code] === decision);
}
