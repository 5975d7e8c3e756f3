import type { CredentialVerifier } from "../credential-verifier.js";
import { looksLikeJwt, parseJws } from "./jws-shape.js";

/**
 * Bearers that are not a well-formed JWS go the opaque way (a legacy
 * secret may contain dots). When that finds no token and the bearer was
 * plainly meant as a JWT, the rejection says what is wrong with it
 * (`malformed_jwt`, `bad_jwt_header`, `bad_jwt_payload`) instead of
 * `unknown_token`.
 */
export function explainingMalformedJwt(opaque: CredentialVerifier): CredentialVerifier {
  return {
    accepts: (bearer) => opaque.accepts(bearer),
    async verify(bearer) {
      const verification = await opaque.verify(bearer);
      if (!("rejection" in verification) || verification.rejection.reason !== "unknown_token" || !looksLikeJwt(bearer)) {
        return verification;
      }
      const parsed = parseJws(bearer);
      return "reason" in parsed ? { rejection: parsed } : verification;
    },
  };
}
