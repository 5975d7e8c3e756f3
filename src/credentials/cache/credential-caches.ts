import type { Clock } from "../../clock.js";
import type { SigningKeyRecord } from "../../model/signing-key.js";
import type { StoredTeam } from "../../model/team.js";
import type { Store } from "../../store/store.js";
import { CacheCoherence } from "./cache-coherence.js";
import type { CacheSettings } from "./cache-settings.js";
import { cachedReads, type HeldRecords, type OwnerReader, type SigningKeyReader, type TeamReader, type TokenReader } from "./cached-reads.js";
import { VerifiedJwtCache } from "./verified-jwt-cache.js";

/** What the verifiers read through, and the handle that empties it all. */
export interface CredentialCaches {
  readonly tokens: TokenReader;
  readonly teams: TeamReader & HeldRecords<StoredTeam>;
  readonly signingKeys: SigningKeyReader & HeldRecords<SigningKeyRecord>;
  readonly owners: OwnerReader;
  /** Absent when caching is off. */
  readonly verifiedJwts?: VerifiedJwtCache;
  /** Empties every cache at once (a configuration reload calls it). */
  clear(): void;
  /** Entries held now, per cache (tests and diagnostics). */
  sizes(): Record<string, number>;
  /** Stops listening to the store's invalidations. */
  stop(): void;
}

/**
 * The credential caches over `store`, kept coherent by the store's
 * invalidation feed (docs/caching.md); with caching off, the store itself.
 */
export function credentialCaches(deps: {
  store: Pick<Store, "tokens" | "teams" | "signingKeys" | "owners" | "watchInvalidations">;
  settings: CacheSettings;
  clock: Clock;
  onHealth: (healthy: boolean, reason: string) => void;
}): CredentialCaches {
  const { store, settings, clock } = deps;
  if (!settings.enabled) {
    return {
      tokens: store.tokens,
      teams: { get: (id) => store.teams.get(id), held: () => undefined },
      signingKeys: { get: (kid) => store.signingKeys.get(kid), held: () => undefined },
      owners: store.owners,
      clear: () => undefined,
      sizes: () => ({}),
      stop: () => undefined,
    };
  }
  const coherence = new CacheCoherence((listener) => store.watchInvalidations(listener), deps.onHealth);
  const bounds = { maxEntries: settings.maxEntries, ttlMs: settings.ttlMs };
  const reads = cachedReads({
    store,
    coherence,
    bounds,
    negative: { maxEntries: settings.negativeMaxEntries, ttlMs: settings.negativeTtlMs },
    clock,
  });
  const verifiedJwts = new VerifiedJwtCache(coherence, bounds, clock);
  return {
    tokens: reads.tokens,
    teams: reads.teams,
    signingKeys: reads.signingKeys,
    owners: reads.owners,
    verifiedJwts,
    clear: () => coherence.clear(),
    sizes: () => ({ ...reads.sizes(), verifiedJwts: verifiedJwts.size }),
    stop: () => coherence.stop(),
  };
}
