import { jwtVerify, type JWTPayload, type JWTVerifyGetKey, type CryptoKey } from "jose";
import type { Logger } from "pino";
import { DeadlineExceededError, UnavailableError } from "../../errors.js";
import type { ReasonCode } from "../../model/reason-codes.js";
import { reasonForJoseError } from "./jwt-reasons.js";

/** What one issuer demands of its tokens. */
export interface JwtExpectations {
  issuer: string;
  /** Empty: `aud` is not checked. */
  audiences: readonly string[];
  algorithms: readonly string[];
  leewayS: number;
  requiredClaims?: readonly string[];
  /** Accepted `typ` header values; a token without `typ` passes. Unset: `typ` is not checked. */
  tokenTypes?: readonly string[];
}

export type SignedJwtOutcome = { payload: JWTPayload } | { reason: ReasonCode };

/**
 * Checks signature, `alg`, `iss`, `aud`, `exp`, `nbf`, `iat`, required
 * claims and `typ` at `now` (ms). Every failure is a reason code; only
 * UnavailableError (keys cannot be had) and DeadlineExceededError (the
 * caller's deadline passed while waiting for them) escape.
 */
export async function verifySignedJwt(
  token: string,
  key: CryptoKey | Uint8Array | JWTVerifyGetKey,
  expected: JwtExpectations,
  now: number,
  log: Logger,
): Promise<SignedJwtOutcome> {
  try {
    const options = {
      issuer: expected.issuer,
      audience: expected.audiences.length > 0 ? [...expected.audiences] : undefined,
      algorithms: [...expected.algorithms],
      clockTolerance: expected.leewayS,
      requiredClaims: expected.requiredClaims === undefined ? undefined : [...expected.requiredClaims],
      currentDate: new Date(now),
    };
    const { payload, protectedHeader } =
      typeof key === "function" ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
    // jose checks `iat` against the clock only with maxTokenAge; a token from the future is refused here.
    if (typeof payload.iat === "number" && payload.iat > now / 1000 + expected.leewayS) return { reason: "iat_in_future" };
    // An ID token, a logout or event token signed by the same keys is not an access token.
    if (expected.tokenTypes !== undefined && !typeAccepted(protectedHeader.typ, expected.tokenTypes)) {
      return { reason: "wrong_token_type" };
    }
    return { payload };
  } catch (error) {
    if (error instanceof UnavailableError || error instanceof DeadlineExceededError) throw error;
    const reason = reasonForJoseError(error);
    if (reason !== undefined) return { reason };
    log.warn({ issuer: expected.issuer, err: error }, "JWT verification failed unexpectedly; denied");
    return { reason: "invalid_token" };
  }
}

function typeAccepted(typ: unknown, accepted: readonly string[]): boolean {
  if (typ === undefined) return true;
  return typeof typ === "string" && accepted.some((type) => mediaType(type) === mediaType(typ));
}

/** RFC 7515 §4.1.9: `typ` is a media type, compared case-insensitively, whose `application/` may be left off. */
function mediaType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.includes("/") ? lower : `application/${lower}`;
}
