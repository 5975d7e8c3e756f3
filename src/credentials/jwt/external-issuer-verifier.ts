import type { CryptoKey, JWSHeaderParameters, JWTPayload, JWTVerifyGetKey } from "jose";
import type { Logger } from "pino";
import { DeadlineExceededError, UnavailableError } from "../../errors.js";
import type { Clock } from "../../clock.js";
import { externalId, type Identity } from "../../model/identity.js";
import { isOwnerId } from "../../model/owner.js";
import type { VerifiedJwtCache } from "../cache/verified-jwt-cache.js";
import type { Verification } from "../credential-verifier.js";
import { scopesOf, stringClaim, stringList, validUntil } from "./claims.js";
import type { ExternalIssuerConfig } from "./issuer-config.js";
import type { JwksKeySource } from "./jwks-key-source.js";
import type { ParsedJws } from "./jws-shape.js";
import type { IssuerVerifier } from "./jwt-verifier.js";
import { verifySignedJwt } from "./verify-signed-jwt.js";

/** Access tokens of a trusted external issuer, checked with its JWKS keys. */
export function externalIssuerVerifier(deps: {
  config: ExternalIssuerConfig;
  keys: JwksKeySource;
  /** Tokens whose signature and time claims passed already, while the IdP still offers the key that checked them. */
  verified?: VerifiedJwtCache;
  clock: Clock;
  log: Logger;
}): IssuerVerifier {
  const { config } = deps;
  /**
   * The issuer's key for this header now: the key, or the lookup, which the
   * full verification is handed. An outage or the caller's deadline is thrown as ever; any other
   * failure is left to the full verification, which names it (after its own
   * checks, `alg` first) without looking the key up a second time: a second
   * lookup would wait for a second JWKS refresh.
   */
  async function currentKey(parsed: ParsedJws, signal: AbortSignal | undefined): Promise<CryptoKey | JWTVerifyGetKey> {
    try {
      return await deps.keys.getKey(parsed.header as JWSHeaderParameters, signal);
    } catch (error) {
      if (error instanceof UnavailableError || error instanceof DeadlineExceededError) throw error;
      return () => Promise.reject(error);
    }
  }
  return {
    async verify(token, parsed, signal): Promise<Verification> {
      // Looked up even for a token verified before: a withdrawn key or a key set past its staleness ends its entries.
      const lookedUp: CryptoKey | JWTVerifyGetKey =
        deps.verified === undefined ? (header) => deps.keys.getKey(header, signal) : await currentKey(parsed, signal);
      const key = typeof lookedUp === "function" ? undefined : lookedUp;
      let payload = key === undefined ? undefined : deps.verified?.get(token, config.issuer, key);
      if (payload === undefined) {
        const outcome = await verifySignedJwt(token, lookedUp, config, deps.clock(), deps.log);
        if ("reason" in outcome) return { rejection: { reason: outcome.reason } };
        payload = outcome.payload;
        if (key !== undefined) deps.verified?.keep(token, config.issuer, key, payload, validUntil(payload, config.leewayS));
      }
      const verification = claimsVerification(payload);
      if (key !== undefined && "identity" in verification) {
        const { alg, kid } = parsed.header;
        const header = typeof kid === "string" ? { alg, kid } : { alg };
        deps.verified?.vouch(token, key, { by: config, header, identity: verification.identity });
      }
      return verification;
    },
    recall(entry, signal): Verification | undefined {
      // Only while the issuer still offers, without a wait, the very key that checked the token.
      if (entry.vouched.by !== config || deps.keys.knownKey(entry.vouched.header, signal) !== entry.key) return undefined;
      return { identity: entry.vouched.identity };
    },
  };

  /** The identity the verified claims name, or why they name none; frozen, as recall hands it to every later decision. */
  function claimsVerification(payload: Readonly<JWTPayload>): Verification {
    const sub = stringClaim(payload, config.subjectClaim);
    // A subject that is there but not a usable string is a bad claim, not a missing one.
    if (sub === undefined) return { rejection: { reason: payload[config.subjectClaim] === undefined ? "missing_claim" : "bad_claim" } };
    const scopes = scopesOf(payload, config.scopeClaims);
    const libraries = config.librariesClaim === undefined ? [] : stringList(payload[config.librariesClaim], true);
    if (scopes === undefined || libraries === undefined) return { rejection: { reason: "bad_claim" } };
    // An issuer that maps owners maps every token: one without a usable owner would escape its owner's deactivation.
    const owner = config.ownerClaim === undefined ? undefined : stringClaim(payload, config.ownerClaim);
    if (config.ownerClaim !== undefined && owner === undefined) {
      return { rejection: { reason: payload[config.ownerClaim] === undefined ? "missing_claim" : "bad_claim" } };
    }
    if (owner !== undefined && !isOwnerId(owner)) return { rejection: { reason: "bad_claim" } };
    const jti = stringClaim(payload, "jti");
    const until = validUntil(payload, config.leewayS);
    const subject = externalId(config.alias, sub);
    const identity: Identity = {
      subject,
      // Without a jti the token has no id of its own; the identity header is then removed.
      tokenId: jti === undefined ? "" : externalId(config.alias, jti),
      credentialType: "jwt",
      name: stringClaim(payload, "azp") ?? stringClaim(payload, "client_id") ?? subject,
      scopes,
      libraries,
      allowedTools: [],
      issuerAlias: config.alias,
      ...(owner === undefined ? {} : { owner }),
      claims: payload,
    };
    if (jti !== undefined && until !== undefined) identity.jti = Object.freeze({ issuer: config.issuer, jti, validUntil: until });
    Object.freeze(identity.scopes);
    Object.freeze(identity.libraries);
    Object.freeze(identity.allowedTools);
    return { identity: Object.freeze(identity) };
  }
}
