import { importJWK, type CryptoKey } from "jose";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { InvalidArgumentError } from "../../errors.js";
import { externalId } from "../../model/identity.js";
import type { ReasonCode } from "../../model/reason-codes.js";
import type { Verification } from "../credential-verifier.js";
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
export async function requestTokenVerifier(deps: {
  config: RequestIssuerConfig;
  field: string;
  ledger: JtiLedger;
  clock: Clock;
  log: Logger;
}): Promise<IssuerVerifier> {
  const { config } = deps;
  // Imported at start for each allowed algorithm, so a broken key stops the start, not a request.
  const keys = new Map<string, CryptoKey | Uint8Array>();
  for (const alg of config.algorithms) {
    try {
      keys.set(alg, await importJWK(config.jwk, alg));
    } catch {
      throw new InvalidArgumentError(`${deps.field}.jwk`, `cannot be used for ${alg}`);
    }
  }
  const reject = (reason: ReasonCode): Verification => ({ rejection: { reason } });
  return {
    async verify(token, parsed): Promise<Verification> {
      const { alg, kid } = parsed.header;
      const key = keys.get(alg);
      if (key === undefined) return reject("alg_not_allowed");
      if (kid !== undefined && config.jwk.kid !== undefined && kid !== config.jwk.kid) return reject("unknown_key");
      const expected = { ...config, requiredClaims: ["sub", "jti", "iat", "exp"] };
      const outcome = await verifySignedJwt(token, key, expected, deps.clock(), deps.log);
      if ("reason" in outcome) return reject(outcome.reason);
      const { payload } = outcome;
      if ((payload.exp as number) - (payload.iat as number) > config.maxLifetimeS) return reject("lifetime_too_long");
      const sub = stringClaim(payload, "sub");
      const jti = stringClaim(payload, "jti");
      const libraries = Array.isArray(payload.libs) ? stringList(payload.libs, false) : undefined;
      const scopes = scopesOf(payload, config.scopeClaims);
      if (sub === undefined || jti === undefined || libraries === undefined || scopes === undefined) return reject("bad_claim");
      const ref = { issuer: config.issuer, jti, validUntil: validUntil(payload, config.leewayS)! };
      if (!(await deps.ledger.presented(ref, config.maxLifetimeS * 1000))) return reject("jti_replayed");
      const subject = externalId(config.alias, sub);
      return {
        identity: {
          subject,
          tokenId: externalId(config.alias, jti),
          credentialType: "request_token",
          name: subject,
          scopes,
          libraries,
          allowedTools: [],
          issuerAlias: config.alias,
          jti: ref,
          claims: payload,
        },
      };
    },
  };
}
