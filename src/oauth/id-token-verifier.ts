import { errors, jwtVerify } from "jose";
import type { Clock } from "../clock.js";
import type { JwksKeySource } from "../credentials/jwt/jwks-key-source.js";
import { DUPLICATE_MEMBER_NAME, parseJws } from "../credentials/jwt/jws-shape.js";
import { FailedPreconditionError, UnavailableError } from "../errors.js";

export interface IdTokenExpectations {
  issuer: string;
  /** The client id the token must be issued to. */
  audience: string;
  nonce: string;
  jwksUri: string;
}

/**
 * Validates an OIDC ID token (Core §3.1.3.7): signature by the issuer's
 * keys, iss, aud, azp, exp and nbf (with a leeway for clock skew), and the
 * nonce of the flow; a header or payload naming a member twice is refused first. Rejections throw
 * FailedPreconditionError "id_token_invalid: ..."; an unreachable key
 * source throws UnavailableError.
 */
export interface IdTokenVerifier {
  verify(idToken: string, expected: IdTokenExpectations): Promise<{ subject: string }>;
}

/**
 * Keys from the issuer's jwks_uri through the JWT credentials' key source
 * (cached, coalesced and rate-limited refreshes, bounded fetches), one
 * source per jwks_uri as `keysFor` keeps them.
 */
export function jwksIdTokenVerifier(keysFor: (jwksUri: string) => JwksKeySource, clock: Clock, leewayS: number): IdTokenVerifier {
  return {
    async verify(idToken, expected) {
      // jose reads the token with JSON.parse, which keeps the last of two equal names: such a token is refused unread.
      const parsed = parseJws(idToken);
      if ("reason" in parsed && parsed.detail === DUPLICATE_MEMBER_NAME) throw new FailedPreconditionError(`id_token_invalid: ${DUPLICATE_MEMBER_NAME}`);
      let payload;
      const keys = keysFor(expected.jwksUri);
      try {
        ({ payload } = await jwtVerify(idToken, (header) => keys.getKey(header), {
          issuer: expected.issuer,
          audience: expected.audience,
          requiredClaims: ["exp", "iat", "sub"],
          currentDate: new Date(clock()),
          clockTolerance: leewayS,
        }));
      } catch (error) {
        throw classified(error);
      }
      // A token for several audiences must say it was issued to this client;
      // otherwise another audience's login could be replayed here.
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (payload.azp === undefined && audiences.length > 1) throw new FailedPreconditionError("id_token_invalid: claim azp missing");
      if (payload.azp !== undefined && payload.azp !== expected.audience) {
        throw new FailedPreconditionError("id_token_invalid: claim azp does not match");
      }
      if (payload.nonce !== expected.nonce) throw new FailedPreconditionError("id_token_invalid: nonce does not match the flow's");
      return { subject: payload.sub! };
    },
  };
}

function classified(error: unknown): Error {
  if (error instanceof UnavailableError) return error;
  if (error instanceof errors.JWTExpired) return new FailedPreconditionError("id_token_invalid: expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new FailedPreconditionError(`id_token_invalid: claim ${error.claim} ${error.reason === "missing" ? "missing" : "does not match"}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new FailedPreconditionError("id_token_invalid: signature does not verify");
  if (error instanceof errors.JWKSNoMatchingKey) return new FailedPreconditionError("id_token_invalid: no key of the issuer matches");
  if (error instanceof errors.JOSEError) return new FailedPreconditionError(`id_token_invalid: ${error.code}`);
  return error instanceof Error ? error : new Error(String(error));
}
