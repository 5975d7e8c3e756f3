import type { Logger } from "pino";
import { bootstrapRootToken } from "../admin/bootstrap.js";
import { configRootTokens } from "../admin/config-tokens.js";
import { importTokenFile } from "../admin/token-file-import.js";
import type { Clock } from "../clock.js";
import type { Config } from "../config.js";
import { Authenticator } from "../credentials/authenticator.js";
import { credentialCaches } from "../credentials/cache/credential-caches.js";
import { JtiLedger } from "../credentials/jti-ledger.js";
import { jwtCredentials } from "../credentials/jwt/jwt-credentials.js";
import { explainingMalformedJwt } from "../credentials/jwt/malformed-jwt.js";
import { LastUsedTracker } from "../credentials/last-used-tracker.js";
import { SecretHasher } from "../credentials/opaque-token.js";
import { opaqueVerifier } from "../credentials/opaque-verifier.js";
import type { Store } from "../store/store.js";

/**
 * The credentials Portcullis accepts: root tokens from the configuration, an
 * imported token file or a bootstrapped root token, and the verifiers of the
 * identity phase.
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
  const authenticator = new Authenticator([
    await jwtCredentials({ config: config.jwt, caches, ledger, clock, log }),
    // Takes every bearer the JWT verifier leaves, so it stays last.
    explainingMalformedJwt(opaqueVerifier({ tokens: caches.tokens, configTokens, hasher, clock, lastUsed })),
  ]);
  return {
    hasher,
    configTokens,
    ledger,
    authenticator,
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
