import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { CredentialCaches } from "../cache/credential-caches.js";
import type { CredentialVerifier } from "../credential-verifier.js";
import type { JtiLedger } from "../jti-ledger.js";
import { externalIssuerVerifier } from "./external-issuer-verifier.js";
import type { JwtConfig } from "./issuer-config.js";
import { createJwksKeySource } from "./jwks-key-source.js";
import { jwtVerifier, type IssuerVerifier } from "./jwt-verifier.js";
import { requestTokenVerifier } from "./request-token-verifier.js";
import { teamTokenVerifier } from "./team-token-verifier.js";

/**
 * The JWT verifier for every configured issuer. Key sets are fetched in
 * the background from here on; a slow or absent IdP never delays start.
 */
export async function jwtCredentials(deps: {
  config: JwtConfig;
  /** The store's records as the verifiers read them, and the verified-JWT cache. */
  caches: Pick<CredentialCaches, "signingKeys" | "teams" | "tokens" | "verifiedJwts">;
  ledger: JtiLedger;
  clock: Clock;
  log: Logger;
}): Promise<CredentialVerifier> {
  const { clock, log } = deps;
  const issuers = new Map<string, IssuerVerifier>();
  issuers.set(
    deps.config.teamTokens.issuer,
    teamTokenVerifier({
      config: deps.config.teamTokens,
      signingKeys: deps.caches.signingKeys,
      teams: deps.caches.teams,
      tokens: deps.caches.tokens,
      verified: deps.caches.verifiedJwts,
      clock,
      log,
    }),
  );
  for (const config of deps.config.issuers) {
    const keys = createJwksKeySource({
      jwksUri: config.jwksUri,
      issuer: config.issuer,
      ttlMs: config.jwksCacheTtlS * 1000,
      minRefreshIntervalMs: config.jwksMinRefreshIntervalS * 1000,
      maxStaleMs: config.jwksMaxStaleS * 1000,
      fetchLimits: { timeoutMs: config.jwksTimeoutMs, maxBytes: config.jwksMaxBytes },
      clock,
      log,
    });
    void keys.start();
    issuers.set(config.issuer, externalIssuerVerifier({ config, keys, verified: deps.caches.verifiedJwts, clock, log }));
  }
  for (const [index, config] of deps.config.requestIssuers.entries()) {
    const field = `jwt.request_issuers[${index}]`;
    issuers.set(config.issuer, await requestTokenVerifier({ config, field, ledger: deps.ledger, clock, log }));
  }
  return jwtVerifier(issuers);
}
