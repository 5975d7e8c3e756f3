import { importJWK, type CryptoKey } from "jose";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { Verification } from "../identity.js";
import type { JtiLedger } from "../jti-ledger.js";
import { scopesOf, stringClaim, stringList, validUntil } from "./claims.js";
import type { RequestIssuerConfig } from "./issuer-config.js";
import type { IssuerVerifier } from "./jwt-verifier.js";
import { verifySignedJwt } from "./verify-signed-jwt.js";

/**
 * Short-lived per-request tokens from an orchestrator, trusted by one
 * configured key. They carry `jti` and their libraries (`libs`); every
 * presentation is recorded, so a jti seen again after its validity is a
 * replay on every replica.
 */
export function requestTokenVerifier(deps: {
  config: RequestIssuerConfig;
  ledger: JtiLedger;
  clock: Clock;
  log: Logger;
}): IssuerVerifier {
  const { config } = deps;
  const keys = new Map<string, Promise<CryptoKey | Uint8Array>>();
  const keyFor = (alg: string) => {
    let key = keys.get(alg);
    if (key === undefined) {
      key = importJWK(config.jwk, alg);
      keys.set(alg, key);
    }
    return key;
  };
  const reject = (reason: string): Verification => ({ rejection: { reason } });
  return {
    async verify(token, parsed): Promise<Verification> {
      const { alg, kid } = parsed.header;
      // Checked before the key is imported for `alg`: the header never chooses how the key is used.
      if (!config.algorithms.includes(alg)) return reject("alg_not_allowed");
      if (kid !== undefined && config.jwk.kid !== undefined && kid !== config.jwk.kid) return reject("unknown_key");
      const expected = { ...config, requiredClaims: ["sub", "jti", "iat", "exp"] };
      const outcome = await verifySignedJwt(token, await keyFor(alg), expected, deps.clock(), deps.log);
      if ("reason" in outcome) return reject(outcome.reason);
      const { payload } = outcome;
      if ((payload.exp as number) - (payload.iat as number) > config.maxLifetimeS) return reject("lifetime_too_long");
      const subject = stringClaim(payload, "sub");
      const jti = stringClaim(payload, "jti");
      const libraries = Array.isArray(payload.libs) ? stringList(payload.libs, false) : undefined;
      const scopes = scopesOf(payload, config.scopeClaims);
      if (subject === undefined || jti === undefined || libraries === undefined || scopes === undefined) return reject("bad_claim");
      const ref = { issuer: config.issuer, jti, validUntil: validUntil(payload, config.leewayS)! };
      if (!(await deps.ledger.presented(ref, config.maxLifetimeS * 1000))) return reject("jti_replayed");
      return {
        identity: {
          subject,
          tokenId: jti,
          credentialType: "request_token",
          name: subject,
          scopes,
          libraries,
          allowedTools: [],
          jti: ref,
        },
      };
    },
  };
}
