import type { Config } from "../config.js";
import { openEmbeddedStore } from "./embedded/embedded-store.js";
import { openRedisStore } from "./redis/redis-store.js";
import type { Store } from "./store.js";

const REDIS_STARTUP_TIMEOUT_MS = 30_000;

/**
 * Redis when REDIS_URL is set, the embedded file-backed store otherwise.
 * `onFatal` hears of a failure after which the store refuses writes for
 * good (the embedded store's lost data-dir lock), `warn` of what an
 * operator should know while it runs on.
 */
export function openStore(config: Config, onFatal: (error: Error) => void, warn: (message: string) => void): Promise<Store> {
  if (config.redis === undefined) {
    return openEmbeddedStore(config.dataDir, { lockStaleMs: config.dataDirLockStaleMs, onLockLost: onFatal, warn });
  }
  return openRedisStore({ ...config.redis, startupTimeoutMs: REDIS_STARTUP_TIMEOUT_MS });
}
