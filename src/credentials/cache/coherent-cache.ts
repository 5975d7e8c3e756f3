import { LRUCache } from "lru-cache";
import type { Clock } from "../../clock.js";
import type { CacheCoherence, Invalidatable } from "./cache-coherence.js";

export interface CacheBounds {
  maxEntries: number;
  ttlMs: number;
}

/**
 * A bounded LRU of store records that answers only while `coherence` says
 * cached entries may be trusted, and keeps a read only when no
 * invalidation came while it was in flight. Entry ages follow the injected
 * clock, so an entry's end can be tied to a credential's expiry.
 */
export class CoherentCache<V extends object | true> implements Invalidatable {
  private readonly entries: LRUCache<string, V>;

  constructor(
    private readonly coherence: CacheCoherence,
    readonly kind: Invalidatable["kind"],
    private readonly bounds: CacheBounds,
    clock: Clock,
  ) {
    // ttlResolution 0: the clock is read on every lookup, never a remembered reading.
    this.entries = new LRUCache<string, V>({ max: bounds.maxEntries, ttl: bounds.ttlMs, perf: { now: clock }, ttlResolution: 0 });
    coherence.register(this);
  }

  get(id: string): V | undefined {
    return this.coherence.usable ? this.entries.get(id) : undefined;
  }

  /** Keeps what a read that took `ticket` answered, for at most `ttlMs` (the bound when unset). */
  keep(id: string, value: V, ticket: number, ttlMs = this.bounds.ttlMs): void {
    if (ttlMs <= 0 || !this.coherence.current(ticket)) return;
    this.entries.set(id, value, { ttl: Math.min(ttlMs, this.bounds.ttlMs) });
  }

  drop(id: string): void {
    this.entries.delete(id);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
