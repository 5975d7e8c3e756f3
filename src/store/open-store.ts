import { openEmbeddedStore } from "./embedded/embedded-store.js";
import type { RedisConfig } from "./redis/redis-settings.js";
import { openRedisStore } from "./redis/redis-store.js";
import type { Store } from "./store.js";

const REDIS_STARTUP_TIMEOUT_MS = 30_000;

/** The part of the configuration that picks and opens a backend. */
export interface StoreSettings {
  /** Set: Redis; absent: the embedded store in `dataDir`. */
  redis?: RedisConfig;
  dataDir: string;
  /** After this long without a refresh, a data dir lock counts as abandoned (a killed process's). */
  dataDirLockStaleMs: number;
}

/**
 * Redis when REDIS_URL is set, the embedded file-backed store otherwise.
 * `onFatal` hears of a failure after which the store refuses writes for
 * good (the embedded store's lost data-dir lock), `warn` of what an
 * operator should know while it runs on.
 */
export function openStore(settings: StoreSettings, onFatal: (error: Error) => void, warn: (message: string) => void): Promise<Store> {
  if (settings.redis === undefined) {
    return openEmbeddedStore(settings.dataDir, { lockStaleMs: settings.dataDirLockStaleMs, onLockLost: onFatal, warn });
  }
  return openRedisStore({
    ...settings.redis,
    startupTimeoutMs: REDIS_STARTUP_TIMEOUT_MS,
    onMigrated: ({ moved, kept }) => {
      if (moved + kept > 0) warn(`moved ${moved} records from the first Redis key layout to their own hash tags (${kept} had a newer copy already); see docs/storage.md`);
    },
  });
}
