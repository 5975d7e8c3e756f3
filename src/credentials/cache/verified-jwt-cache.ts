import { createHash } from "node:crypto";
import type { JWTPayload } from "jose";
import { LRUCache } from "lru-cache";
import type { Clock } from "../../clock.js";
import type { CacheCoherence, Invalidatable } from "./cache-coherence.js";
import type { CacheBounds } from "./coherent-cache.js";

interface VerifiedJwt {
  issuer: string;
  /** The key object the signature was checked with. */
  key: object;
  payload: Readonly<JWTPayload>;
  /** Last moment (ms, exclusive) the signature checks accepted it: `exp` plus leeway. */
  validUntil: number;
}

/**
 * JWTs whose signature and time claims passed, by a SHA-256 of the token
 * (the token itself is never a key in memory longer than its request), each
 * until `min(exp + leeway, ttl)`, and only while the key that checked it is
 * still the key its issuer offers for it: the caller looks the key up on
 * every request (a JWKS past its staleness or without that key any more
 * ends the entry). What passed is a fact about the token and that key,
 * never about the store, so entries stay usable while the invalidation feed
 * is down; the store's part of a decision (key retired, team deactivated,
 * token rotated) is read on every request through the record caches.
 * Emptied with every other cache.
 */
export class VerifiedJwtCache implements Invalidatable {
  private readonly entries: LRUCache<string, VerifiedJwt>;

  constructor(
    coherence: CacheCoherence,
    private readonly bounds: CacheBounds,
    private readonly clock: Clock,
  ) {
    this.entries = new LRUCache<string, VerifiedJwt>({ max: bounds.maxEntries, ttl: bounds.ttlMs, perf: { now: clock }, ttlResolution: 0 });
    coherence.register(this);
  }

  /** The payload `issuer`'s checks accepted for this token with `key`, while it is still valid. */
  get(token: string, issuer: string, key: object): Readonly<JWTPayload> | undefined {
    const entry = this.entries.get(digest(token));
    if (entry === undefined || entry.issuer !== issuer || entry.key !== key) return undefined;
    return entry.validUntil > this.clock() ? entry.payload : undefined;
  }

  /** `validUntil` undefined: the token has no `exp`, and is kept for the bound only. */
  keep(token: string, issuer: string, key: object, payload: JWTPayload, validUntil: number | undefined): void {
    const until = validUntil ?? Number.POSITIVE_INFINITY;
    const left = Math.min(until - this.clock(), this.bounds.ttlMs);
    if (left <= 0) return;
    this.entries.set(digest(token), { issuer, key, payload: Object.freeze(payload), validUntil: until }, { ttl: left });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}

function digest(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
