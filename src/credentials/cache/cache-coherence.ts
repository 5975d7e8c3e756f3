import type { Invalidation, InvalidationListener, RecordKind } from "../../store/store.js";

/** A cache as coherence sees it: emptied at once, and entries of a record kind dropped by id. */
export interface Invalidatable {
  readonly kind?: RecordKind;
  drop?(id: string): void;
  clear(): void;
}

/**
 * When a cached read may be trusted. Entries are used only while the
 * store's invalidation feed is healthy; each invalidation, health change or
 * flush moves the generation on, and a read that started in an earlier
 * generation is answered but not kept: it may have been read before a
 * change whose invalidation arrived while it was in flight.
 */
export class CacheCoherence {
  private generation = 0;
  private healthy = false;
  private readonly caches: Invalidatable[] = [];
  private readonly unwatch: () => void;

  /** `watch` is the store's `watchInvalidations`; `onHealth` hears each health change (for the log). */
  constructor(watch: (listener: InvalidationListener) => () => void, private readonly onHealth: (healthy: boolean, reason: string) => void) {
    this.unwatch = watch((invalidation) => this.hear(invalidation));
  }

  /** Whether cached entries may answer now. */
  get usable(): boolean {
    return this.healthy;
  }

  /** Taken before a store read; `current` says later whether its answer may be kept. */
  ticket(): number {
    return this.generation;
  }

  current(ticket: number): boolean {
    return this.healthy && ticket === this.generation;
  }

  register(cache: Invalidatable): void {
    this.caches.push(cache);
  }

  /** Empties every cache: what a configuration reload calls. */
  clear(): void {
    this.generation++;
    for (const cache of this.caches) cache.clear();
  }

  stop(): void {
    this.unwatch();
    this.healthy = false;
    this.clear();
  }

  private hear(invalidation: Invalidation): void {
    if (invalidation.kind === "health") {
      const changed = this.healthy !== invalidation.healthy;
      this.healthy = invalidation.healthy;
      this.clear();
      if (changed) this.onHealth(invalidation.healthy, invalidation.reason);
      return;
    }
    if (invalidation.kind === "all") {
      this.clear();
      return;
    }
    this.generation++;
    for (const cache of this.caches) if (cache.kind === invalidation.kind) cache.drop?.(invalidation.id);
  }
}
