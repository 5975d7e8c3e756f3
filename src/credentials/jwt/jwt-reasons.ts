import type { ReasonCode } from "../../model/reason-codes.js";
import { errors } from "jose";

/**
 * The one table from jose's error codes to Portcullis reason codes. Claim
 * failures are keyed `<code>:<claim>:<reason>` first, then `<code>:<claim>`,
 * then by code alone.
 */
const REASONS: Record<string, ReasonCode> = {
  [errors.JWTExpired.code]: "token_expired",
  [`${errors.JWTClaimValidationFailed.code}:nbf:check_failed`]: "token_not_yet_valid",
  [`${errors.JWTClaimValidationFailed.code}:iat:check_failed`]: "iat_in_future",
  [`${errors.JWTClaimValidationFailed.code}:iss:check_failed`]: "unknown_issuer",
  [`${errors.JWTClaimValidationFailed.code}:aud:check_failed`]: "wrong_audience",
  [`${errors.JWTClaimValidationFailed.code}:aud:missing`]: "wrong_audience",
  [`${errors.JWTClaimValidationFailed.code}:typ`]: "bad_claim",
  [`${errors.JWTClaimValidationFailed.code}:*:missing`]: "missing_claim",
  [errors.JWTClaimValidationFailed.code]: "bad_claim",
  [errors.JOSEAlgNotAllowed.code]: "alg_not_allowed",
  [errors.JOSENotSupported.code]: "alg_not_allowed",
  [errors.JWSSignatureVerificationFailed.code]: "bad_signature",
  [errors.JWKSNoMatchingKey.code]: "unknown_key",
  [errors.JWKSMultipleMatchingKeys.code]: "ambiguous_key",
  [errors.JWSInvalid.code]: "malformed_jwt",
  [errors.JWTInvalid.code]: "bad_jwt_payload",
  [errors.JWKInvalid.code]: "unknown_key",
};

/** Reason code for an error jose threw while verifying; undefined for anything that is not jose's. */
export function reasonForJoseError(error: unknown): ReasonCode | undefined {
  if (!(error instanceof errors.JOSEError)) return undefined;
  if (error instanceof errors.JWTClaimValidationFailed) {
    return (
      REASONS[`${error.code}:${error.claim}:${error.reason}`] ??
      REASONS[`${error.code}:${error.claim}`] ??
      REASONS[`${error.code}:*:${error.reason}`] ??
      REASONS[error.code]
    );
  }
  return REASONS[error.code] ?? "invalid_token";
}
