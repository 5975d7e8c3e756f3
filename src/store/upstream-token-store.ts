import type { UpstreamTokenKey, UpstreamTokenRecord } from "../model/upstream-token.js";

/**
 * The upstream token vault's records (src/oauth/upstream-token-vault.ts
 * seals and unseals them), and the refresh lease that lets exactly one
 * replica refresh an entry at a time.
 */
export interface UpstreamTokenStore {
  /** The entry under `key`; undefined when there is none. */
  get(key: UpstreamTokenKey): Promise<UpstreamTokenRecord | undefined>;
  /**
   * Writes (overwrites) an entry. With a `leaseId`, only while it is the
   * entry's current refresh lease, which the same step releases; otherwise
   * writes nothing and answers false.
   */
  put(record: UpstreamTokenRecord, leaseId?: string): Promise<boolean>;
  /** True when there was an entry to delete. */
  delete(key: UpstreamTokenKey): Promise<boolean>;
  /** Deletes every entry of a principal; answers how many there were. */
  deleteAll(principal: string): Promise<number>;
  /** The entries of one principal, by upstream id. Unreadable entries are skipped. */
  list(principal: string): Promise<UpstreamTokenRecord[]>;
  /**
   * Hands every entry of every principal to `onBatch`, a bounded batch at a
   * time (re-sealing at start reads the whole vault). Unreadable entries are
   * skipped; an entry may come twice when the vault changes meanwhile.
   */
  scan(onBatch: (records: UpstreamTokenRecord[]) => Promise<void>): Promise<void>;
  /**
   * Replaces the entry under `key` by what `reseal` makes of it (its secrets
   * sealed again) in one atomic compare-and-set; `reseal` answers undefined
   * to leave it. True when replaced; false when there is no readable entry
   * or nothing to do; AbortedError when another writer (a refresh, a new
   * login, another replica's re-seal) changed the entry in between: nothing
   * is written, so that write is never lost.
   */
  reseal(key: UpstreamTokenKey, reseal: (record: UpstreamTokenRecord) => UpstreamTokenRecord | undefined): Promise<boolean>;
  /** Takes the refresh lease `leaseId` for `ttlMs` unless another is in force; true when taken. */
  acquireLease(key: UpstreamTokenKey, leaseId: string, ttlMs: number, nowMs: number): Promise<boolean>;
  /** Ends the lease if it is still `leaseId`. */
  releaseLease(key: UpstreamTokenKey, leaseId: string): Promise<void>;
}
