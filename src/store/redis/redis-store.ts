import type { Store } from "../store.js";
import { connectRedis, redisCall, type RedisSettings } from "./redis-connection.js";
import { redisDcrStore } from "./redis-dcr-store.js";
import { openRedisInvalidations } from "./redis-invalidations.js";
import { redisKeys } from "./redis-keys.js";
import { migrateLegacyLayout, type LayoutMigration } from "./redis-layout-migration.js";
import { redisOAuthStateStore } from "./redis-oauth-state-store.js";
import { redisOwnerStore } from "./redis-owner-store.js";
import { redisJtiStore } from "./redis-jti-store.js";
import { NO_WAIT, type Durability } from "./redis-script.js";
import { redisSigningKeyStore } from "./redis-signing-key-store.js";
import { redisTeamStore } from "./redis-team-store.js";
import { redisTokenStore } from "./redis-token-store.js";
import { redisUpstreamTokenStore } from "./redis-upstream-token-store.js";

export interface RedisStoreSettings extends RedisSettings {
  prefix: string;
  /** Prefix of DCR entries and leases (ToolHive's when sharing with it); defaults to `prefix`. */
  dcrPrefix?: string;
  startupTimeoutMs: number;
  /** Replicas that must confirm revocations, mints, team rotations and key retirements (`WAIT`); none when left out. */
  waitReplicas?: number;
  waitTimeoutMs?: number;
  /** Hears what the move from the first key layout did at start (docs/storage.md). */
  onMigrated?: (migration: LayoutMigration) => void;
}

/** Shared store for many replicas. */
export async function openRedisStore(settings: RedisStoreSettings): Promise<Store> {
  const client = await connectRedis(settings, settings.startupTimeoutMs);
  const keys = redisKeys(settings.prefix, settings.dcrPrefix);
  try {
    const migration = await redisCall(() => migrateLegacyLayout(client, keys));
    settings.onMigrated?.(migration);
  } catch (error) {
    client.disconnect();
    throw error;
  }
  const durability: Durability =
    settings.waitReplicas === undefined || settings.waitReplicas === 0
      ? NO_WAIT
      : { replicas: settings.waitReplicas, timeoutMs: settings.waitTimeoutMs ?? 500 };
  const invalidations = openRedisInvalidations(settings, keys.invalidations);
  return {
    backend: "redis",
    tokens: redisTokenStore(client, keys, durability),
    dcr: redisDcrStore(client, keys),
    oauthStates: redisOAuthStateStore(client, keys),
    upstreamTokens: redisUpstreamTokenStore(client, keys, durability),
    signingKeys: redisSigningKeyStore(client, keys, durability),
    teams: redisTeamStore(client, keys, durability),
    jti: redisJtiStore(client, keys),
    owners: redisOwnerStore(client, keys, durability),
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
