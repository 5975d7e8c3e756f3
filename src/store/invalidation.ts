/**
 * What a store tells the caches above it: a record that changed (by kind
 * and id), everything at once, or a change of the feed's health. A feed is
 * healthy only while every change made from then on will reach its
 * listeners; any other moment, cached reads must not be trusted.
 */
export type Invalidation =
  | { kind: RecordKind; id: string }
  | { kind: "all" }
  | { kind: "health"; healthy: boolean; reason: string };

/** The record kinds whose changes are announced: those a decision reads. */
export type RecordKind = "token" | "team" | "signing_key" | "owner";

export type InvalidationListener = (invalidation: Invalidation) => void;

/**
 * Fans a backend's invalidations out to its listeners and remembers the
 * feed's health, so a listener that joins late hears the current state first.
 */
export class InvalidationHub {
  private readonly listeners = new Set<InvalidationListener>();
  private healthy: boolean;
  private reason: string;

  constructor(initial: { healthy: boolean; reason: string }) {
    this.healthy = initial.healthy;
    this.reason = initial.reason;
  }

  watch(listener: InvalidationListener): () => void {
    this.listeners.add(listener);
    listener({ kind: "health", healthy: this.healthy, reason: this.reason });
    return () => this.listeners.delete(listener);
  }

  changed(kind: RecordKind, id: string): void {
    this.emit({ kind, id });
  }

  flush(): void {
    this.emit({ kind: "all" });
  }

  health(healthy: boolean, reason: string): void {
    this.healthy = healthy;
    this.reason = reason;
    this.emit({ kind: "health", healthy, reason });
  }

  private emit(invalidation: Invalidation): void {
    for (const listener of this.listeners) listener(invalidation);
  }
}
