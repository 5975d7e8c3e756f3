import type { Config } from "../config.js";
import { openEmbeddedStore } from "./embedded/embedded-store.js";
import { openRedisStore } from "./redis/redis-store.js";
import type { Store } from "./store.js";

const REDIS_STARTUP_TIMEOUT_MS = 30_000;

/** Redis when REDIS_URL is set, the embedded file-backed store otherwise. */
export function openStore(config: Config): Promise<Store> {
  if (config.redis === undefined) return openEmbeddedStore(config.dataDir);
  return openRedisStore({ ...config.redis, startupTimeoutMs: REDIS_STARTUP_TIMEOUT_MS });
}
