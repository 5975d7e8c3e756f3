import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { Store } from "../../store/store.js";
import type { Tracing } from "../../tracing/tracing.js";
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
  store: Pick<Store, "signingKeys" | "teams" | "tokens">;
  ledger: JtiLedger;
  clock: Clock;
  log: Logger;
  tracing?: Tracing;
}): Promise<CredentialVerifier> {
  const { clock, log } = deps;
  const issuers = new Map<string, IssuerVerifier>();
  issuers.set(
    deps.config.teamTokens.issuer,
    teamTokenVerifier({
      config: deps.config.teamTokens,
      signingKeys: deps.store.signingKeys,
      teams: deps.store.teams,
      tokens: deps.store.tokens,
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
      tracing: deps.tracing,
    });
    void keys.start();
    issuers.set(config.issuer, externalIssuerVerifier({ config, keys, clock, log }));
  }
  for (const [index, config] of deps.config.requestIssuers.entries()) {
    const field = `jwt.request_issuers[${index}]`;
    issuers.set(config.issuer, await requestTokenVerifier({ config, field, ledger: deps.ledger, clock, log }));
  }
  return jwtVerifier(issuers);
}
