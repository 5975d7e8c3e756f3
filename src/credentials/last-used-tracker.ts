import type { Clock } from "../clock.js";

/**
 * Records token use without a store write per request: at most one write per
 * token per interval. Failures are reported, never thrown: a lost
 * `last_used_at` update must not turn an allowed request into an error.
 */
export class LastUsedTracker {
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly write: (tokenId: string, at: number) => Promise<void>,
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  used(tokenId: string): void {
    const now = this.clock();
    const previous = this.lastWritten.get(tokenId);
    if (previous !== undefined && now - previous < this.intervalMs) return;
    this.lastWritten.set(tokenId, now);
    if (this.lastWritten.size > 100_000) this.forgetOlderThan(now - this.intervalMs);
    this.write(tokenId, now).catch(this.onError);
  }

  private forgetOlderThan(cutoff: number): void {
    for (const [tokenId, at] of this.lastWritten) if (at < cutoff) this.lastWritten.delete(tokenId);
  }
}
