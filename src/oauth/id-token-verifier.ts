import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey } from "jose";
import type { Clock } from "../clock.js";
import { FailedPreconditionError, UnavailableError } from "../errors.js";
import { boundedFetch, endpointName, type HttpLimits } from "./bounded-fetch.js";

export interface IdTokenExpectations {
  issuer: string;
  /** The client id the token must be issued to. */
  audience: string;
  nonce: string;
  jwksUri: string;
}

/**
 * Validates an OIDC ID token (Core §3.1.3.7): signature by the issuer's
 * keys, iss, aud, exp, and the nonce of the flow. Rejections throw
 * FailedPreconditionError "id_token_invalid: ..."; an unreachable key
 * source throws UnavailableError.
 */
export interface IdTokenVerifier {
  verify(idToken: string, expected: IdTokenExpectations): Promise<{ subject: string }>;
}

const MAX_KEY_SETS = 64;

/**
 * Keys from the issuer's jwks_uri through jose's remote JWKS (cached,
 * re-fetched on an unknown kid), fetched with the same timeout and size cap
 * as every other upstream request.
 *
 * When the shared JWKS key source of the JWT credential verifier lands
 * (src/credentials/jwt/), `keysFor` below is the one place to swap: return
 * that source's key resolver for `jwksUri` instead of a set of our own.
 */
export function remoteJwksIdTokenVerifier(http: HttpLimits, clock: Clock): IdTokenVerifier {
  const keySets = new Map<string, JWTVerifyGetKey>();
  const keysFor = (jwksUri: string): JWTVerifyGetKey => {
    let keys = keySets.get(jwksUri);
    if (keys === undefined) {
      keys = createRemoteJWKSet(new URL(jwksUri), {
        timeoutDuration: http.timeoutMs,
        [customFetch]: async (url, options) => {
          const response = await boundedFetch(url, { headers: options.headers, redirect: "manual" }, http, "JWKS");
          if (response.status !== 200) throw new UnavailableError(`JWKS (${endpointName(url)}) answered HTTP ${response.status}`);
          return new Response(new Uint8Array(response.body), { status: 200 });
        },
      });
      keySets.set(jwksUri, keys);
      if (keySets.size > MAX_KEY_SETS) keySets.delete(keySets.keys().next().value!);
    }
    return keys;
  };

  return {
    async verify(idToken, expected) {
      let payload;
      try {
        ({ payload } = await jwtVerify(idToken, keysFor(expected.jwksUri), {
          issuer: expected.issuer,
          audience: expected.audience,
          requiredClaims: ["exp", "iat", "sub"],
          currentDate: new Date(clock()),
        }));
      } catch (error) {
        throw classified(error);
      }
      if (payload.nonce !== expected.nonce) throw new FailedPreconditionError("id_token_invalid: nonce does not match the flow's");
      return { subject: payload.sub! };
    },
  };
}

function classified(error: unknown): Error {
  if (error instanceof UnavailableError) return error;
  if (error instanceof errors.JWKSTimeout) return new UnavailableError("JWKS did not answer in time", { cause: error });
  if (error instanceof errors.JWTExpired) return new FailedPreconditionError("id_token_invalid: expired");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return new FailedPreconditionError(`id_token_invalid: claim ${error.claim} ${error.reason === "missing" ? "missing" : "does not match"}`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return new FailedPreconditionError("id_token_invalid: signature does not verify");
  if (error instanceof errors.JWKSNoMatchingKey) return new FailedPreconditionError("id_token_invalid: no key of the issuer matches");
  if (error instanceof errors.JOSEError) return new FailedPreconditionError(`id_token_invalid: ${error.code}`);
  return error instanceof Error ? error : new Error(String(error));
}
