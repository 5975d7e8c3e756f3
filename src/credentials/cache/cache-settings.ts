import type { Static } from "@sinclair/typebox";
import { isOn, positiveInteger, section, switchSetting, wholeNumber } from "../../settings-schema/schema-kit.js";

const DEFAULTS = { max_entries: 10_000, ttl_ms: 30_000, negative_max_entries: 10_000, negative_ttl_ms: 1000 };

export const cacheSchema = section(
  "In-process caches of credentials, emptied by pushed invalidation ([caching](caching.md)).",
  {
    enabled: switchSetting({
      env: "PORTCULLIS_CACHE_ENABLED",
      default: true,
      description: "cache token records, verified JWTs, teams and signing keys in each replica",
    }),
    max_entries: positiveInteger({
      env: "PORTCULLIS_CACHE_MAX_ENTRIES",
      default: DEFAULTS.max_entries,
      description: "entries per cache (token records, verified JWTs, teams, signing keys); the least recently used go first",
    }),
    ttl_ms: positiveInteger({
      env: "PORTCULLIS_CACHE_TTL_MS",
      default: DEFAULTS.ttl_ms,
      description: "longest time (ms) an entry is kept; never past the credential's own expiry",
    }),
    negative_max_entries: positiveInteger({
      env: "PORTCULLIS_CACHE_NEGATIVE_MAX_ENTRIES",
      default: DEFAULTS.negative_max_entries,
      description: "unknown opaque token ids remembered",
    }),
    negative_ttl_ms: wholeNumber({
      env: "PORTCULLIS_CACHE_NEGATIVE_TTL_MS",
      default: DEFAULTS.negative_ttl_ms,
      description: "how long (ms) an unknown opaque token id is remembered as unknown; 0 = not at all",
    }),
  },
);

export interface CacheSettings {
  enabled: boolean;
  maxEntries: number;
  ttlMs: number;
  negativeMaxEntries: number;
  /** 0: unknown tokens are not remembered. */
  negativeTtlMs: number;
}

export function cacheSettings(file: Static<typeof cacheSchema> = {}): CacheSettings {
  return {
    enabled: isOn(file.enabled, true),
    maxEntries: file.max_entries ?? DEFAULTS.max_entries,
    ttlMs: file.ttl_ms ?? DEFAULTS.ttl_ms,
    negativeMaxEntries: file.negative_max_entries ?? DEFAULTS.negative_max_entries,
    negativeTtlMs: file.negative_ttl_ms ?? DEFAULTS.negative_ttl_ms,
  };
}
