import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { externalId, type Identity } from "../../model/identity.js";
import type { Verification } from "../credential-verifier.js";
import { scopesOf, stringClaim, stringList, validUntil } from "./claims.js";
import type { ExternalIssuerConfig } from "./issuer-config.js";
import type { JwksKeySource } from "./jwks-key-source.js";
import type { IssuerVerifier } from "./jwt-verifier.js";
import { verifySignedJwt } from "./verify-signed-jwt.js";

/** Access tokens of a trusted external issuer, checked with its JWKS keys. */
export function externalIssuerVerifier(deps: {
  config: ExternalIssuerConfig;
  keys: JwksKeySource;
  clock: Clock;
  log: Logger;
}): IssuerVerifier {
  const { config } = deps;
  return {
    async verify(token): Promise<Verification> {
      const outcome = await verifySignedJwt(token, deps.keys.getKey, config, deps.clock(), deps.log);
      if ("reason" in outcome) return { rejection: { reason: outcome.reason } };
      const { payload } = outcome;
      const sub = stringClaim(payload, config.subjectClaim);
      if (sub === undefined) return { rejection: { reason: "missing_claim" } };
      const scopes = scopesOf(payload, config.scopeClaims);
      const libraries = config.librariesClaim === undefined ? [] : stringList(payload[config.librariesClaim], true);
      if (scopes === undefined || libraries === undefined) return { rejection: { reason: "bad_claim" } };
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
      };
      if (jti !== undefined && until !== undefined) identity.jti = { issuer: config.issuer, jti, validUntil: until };
      return { identity };
    },
  };
}
