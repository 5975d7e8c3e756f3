import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { Identity, Verification } from "../identity.js";
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
      const subject = stringClaim(payload, config.subjectClaim);
      if (subject === undefined) return { rejection: { reason: "missing_claim" } };
      const scopes = scopesOf(payload, config.scopeClaims);
      const libraries = config.librariesClaim === undefined ? [] : stringList(payload[config.librariesClaim], true);
      if (scopes === undefined || libraries === undefined) return { rejection: { reason: "bad_claim" } };
      const jti = stringClaim(payload, "jti");
      const until = validUntil(payload, config.leewayS);
      const identity: Identity = {
        subject,
        tokenId: jti ?? "",
        credentialType: "jwt",
        name: stringClaim(payload, "azp") ?? stringClaim(payload, "client_id") ?? subject,
        scopes,
        libraries,
        allowedTools: [],
      };
      if (jti !== undefined && until !== undefined) identity.jti = { issuer: config.issuer, jti, validUntil: until };
      return { identity };
    },
  };
}
