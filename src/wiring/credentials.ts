import type { Logger } from "pino";
import { bootstrapRootToken } from "../admin/bootstrap.js";
import { configRootTokens } from "../admin/config-tokens.js";
import { importTokenFile } from "../admin/token-file-import.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { Authenticator } from "../credentials/authenticator.js";
import { credentialCaches } from "../credentials/cache/credential-caches.js";
import { JtiLedger } from "../credentials/jti-ledger.js";
import type { CredentialVerifier } from "../credentials/credential-verifier.js";
import { explainingMalformedJwt } from "../credentials/jwt/malformed-jwt.js";
import { LastUsedTracker } from "../credentials/last-used-tracker.js";
import { SecretHasher } from "../credentials/opaque-token.js";
import { opaqueVerifier } from "../credentials/opaque-verifier.js";
import type { Store } from "../store/store.js";

/**
 * The credentials that stay for the life of the process: root tokens from
 * the configuration, an imported token file or a bootstrapped root token,
 * and the opaque verifier with its last-used tracker. The JWT issuers come
 * with each configuration (src/wiring/live-parts.ts).
 */
export async function wireCredentials(config: Config, store: Store, clock: Clock, log: Logger) {
  const hasher = new SecretHasher(config.tokenPepper);
  const configTokens = configRootTokens(config.rootTokens, hasher, clock());
  if (config.tokenFile !== undefined) {
    await importTokenFile({ path: config.tokenFile, tokens: store.tokens, hasher, clock, log });
  }
  if (configTokens.size === 0) {
    await bootstrapRootToken({ tokens: store.tokens, hasher, clock, dataDir: config.dataDir, log });
  }
  const caches = credentialCaches({
    store,
    settings: config.cache,
    clock,
    onHealth: (healthy, reason) =>
      healthy
        ? log.info({ reason }, "credential caches in use: invalidations are heard")
        : log.warn({ reason }, "credential caches bypassed until invalidations are heard again; every decision reads the store"),
  });
  const lastUsed = new LastUsedTracker(
    (id, at) => store.tokens.touch(id, at),
    clock,
    config.lastUsedIntervalMs,
    (error) => log.warn({ err: error }, "could not record token use"),
  );
  const ledger = new JtiLedger(store.jti, clock);
  const opaque = explainingMalformedJwt(opaqueVerifier({ tokens: caches.tokens, configTokens, hasher, clock, lastUsed }));
  return {
    hasher,
    configTokens,
    ledger,
    opaque,
    /** `caches.clear()` empties every credential cache (for a configuration reload). */
    caches,
    /** Writes the uses not yet recorded and stops listening; before the store closes. */
    async stop() {
      caches.stop();
      await lastUsed.stop();
    },
  };
}

export type Credentials = Awaited<ReturnType<typeof wireCredentials>>;

/** The identity phase's verifiers: this configuration's JWT issuers, then the opaque verifier. */
export function authenticatorOf(jwt: CredentialVerifier, credentials: Credentials): Authenticator {
  // The opaque verifier takes every bearer the JWT verifier leaves, so it stays last.
  return new Authenticator([jwt, credentials.opaque], credentials.caches.owners);
}
