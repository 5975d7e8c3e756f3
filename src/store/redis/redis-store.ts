import type { Store } from "../store.js";
import { connectRedis, redisCall, type RedisSettings } from "./redis-connection.js";
import { redisDcrStore } from "./redis-dcr-store.js";
import { openRedisInvalidations } from "./redis-invalidations.js";
import { redisKeys } from "./redis-keys.js";
import { redisOAuthStateStore } from "./redis-oauth-state-store.js";
import { redisJtiStore } from "./redis-jti-store.js";
import { redisSigningKeyStore } from "./redis-signing-key-store.js";
import { redisTeamStore } from "./redis-team-store.js";
import { redisTokenStore } from "./redis-token-store.js";

export interface RedisStoreSettings extends RedisSettings {
  prefix: string;
  /** Prefix of DCR entries and leases (ToolHive's when sharing with it); defaults to `prefix`. */
  dcrPrefix?: string;
  startupTimeoutMs: number;
}

/** Shared store for many replicas. */
export async function openRedisStore(settings: RedisStoreSettings): Promise<Store> {
  const client = await connectRedis(settings, settings.startupTimeoutMs);
  const keys = redisKeys(settings.prefix, settings.dcrPrefix);
  const invalidations = openRedisInvalidations(settings, keys.invalidations);
  return {
    backend: "redis",
    tokens: redisTokenStore(client, keys),
    dcr: redisDcrStore(client, keys),
    oauthStates: redisOAuthStateStore(client, keys),
    signingKeys: redisSigningKeyStore(client, keys),
    teams: redisTeamStore(client, keys),
    jti: redisJtiStore(client, keys),
    watchInvalidations: (listener) => invalidations.watch(listener),
    async ping() {
      await redisCall(() => client.ping());
    },
    async close() {
      await invalidations.close();
      await client.quit().catch(() => client.disconnect());
    },
  };
}
