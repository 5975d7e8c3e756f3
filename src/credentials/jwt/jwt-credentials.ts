import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import type { Tracing } from "../../tracing/tracing.js";
import type { CredentialCaches } from "../cache/credential-caches.js";
import type { CredentialVerifier } from "../credential-verifier.js";
import type { JtiLedger } from "../jti-ledger.js";
import { externalIssuerVerifier } from "./external-issuer-verifier.js";
import type { ExternalIssuerConfig, JwtConfig } from "./issuer-config.js";
import { createJwksKeySource, type JwksKeySource } from "./jwks-key-source.js";
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
  tracing?: Tracing;
  /** The key source of an external issuer; by default a new one, fetching from now on (a reload may hand back a kept one). */
  keySource?: (config: ExternalIssuerConfig) => JwksKeySource;
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
  const keySource = deps.keySource ?? ((config: ExternalIssuerConfig) => startIssuerKeySource(config, clock, log, deps.tracing));
  for (const config of deps.config.issuers) {
    issuers.set(config.issuer, externalIssuerVerifier({ config, keys: keySource(config), verified: deps.caches.verifiedJwts, clock, log }));
  }
  for (const [index, config] of deps.config.requestIssuers.entries()) {
    const field = `jwt.request_issuers[${index}]`;
    issuers.set(config.issuer, await requestTokenVerifier({ config, field, ledger: deps.ledger, clock, log }));
  }
  return jwtVerifier(issuers, deps.caches.verifiedJwts);
}

/** The keys of one external issuer, as its settings say, with the first fetch under way. */
export function startIssuerKeySource(config: ExternalIssuerConfig, clock: Clock, log: Logger, tracing?: Tracing): JwksKeySource {
  const keys = createJwksKeySource({
    jwksUri: config.jwksUri,
    issuer: config.issuer,
    ttlMs: config.jwksCacheTtlS * 1000,
    minRefreshIntervalMs: config.jwksMinRefreshIntervalS * 1000,
    maxStaleMs: config.jwksMaxStaleS * 1000,
    fetchLimits: { timeoutMs: config.jwksTimeoutMs, maxBytes: config.jwksMaxBytes },
    clock,
    log,
    tracing,
  });
  void keys.start();
  return keys;
}

/** What a key source is built from: two issuers equal in these share a key source's cache safely. */
export function keySourceSettings(config: ExternalIssuerConfig): string {
  const { issuer, jwksUri, jwksCacheTtlS, jwksMinRefreshIntervalS, jwksMaxStaleS, jwksTimeoutMs, jwksMaxBytes } = config;
  return JSON.stringify([issuer, jwksUri ?? null, jwksCacheTtlS, jwksMinRefreshIntervalS, jwksMaxStaleS, jwksTimeoutMs, jwksMaxBytes]);
}
