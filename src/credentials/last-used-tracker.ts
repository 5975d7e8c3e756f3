import type { Clock } from "../clock.js";

/**
 * Records token use without a store write per request: uses are gathered
 * in memory (the latest per token) and written together once per interval,
 * so each token gets at most one write per interval and a warm decision
 * none at all; `last_used_at` is then at most one interval behind. Failures
 * are reported, never thrown: a lost `last_used_at` update must not turn an
 * allowed request into an error.
 */
export class LastUsedTracker {
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly write: (tokenId: string, at: number) => Promise<void>,
    private readonly clock: Clock,
    intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.timer = setInterval(() => void this.flush(), intervalMs);
    this.timer.unref();
  }

  used(tokenId: string): void {
    this.pending.set(tokenId, this.clock());
  }

  /** Writes every use gathered so far. */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const uses = this.pending;
    this.pending = new Map();
    await Promise.all([...uses].map(([tokenId, at]) => this.write(tokenId, at).catch(this.onError)));
  }

  /** Writes what is pending and stops; the store must still be open. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }
}
