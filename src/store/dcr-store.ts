import { AbortedError } from "../errors.js";
import type { DcrKey } from "../model/dcr-key.js";
import type { DcrRecord } from "../model/dcr-record.js";

export type DcrAcquisition =
  | { record: DcrRecord }
  | { lease: { leaseId: string; expiresAtMs: number } }
  | { held: { expiresAtMs: number } };

export interface DcrStore {
  /**
   * The record under `key`, undefined when there is none or it was evicted.
   * A record whose secret expired may still come back for up to a second
   * (the eviction window); the caller checks expiry.
   */
  get(key: DcrKey, nowMs: number): Promise<DcrRecord | undefined>;
  /**
   * Writes (overwrites) a record, evicting it per src/store/dcr-expiry.ts.
   * With a `leaseId`, only while it is the key's current lease, which the
   * same step releases; otherwise writes nothing and throws `leaseLost`.
   */
  put(record: DcrRecord, nowMs: number, leaseId?: string): Promise<{ leaseReleased: boolean }>;
  /** True when there was a record to delete. */
  delete(key: DcrKey, nowMs: number): Promise<boolean>;
  /** Every record, or those of one issuer. Unreadable entries are skipped. */
  list(issuer: string | undefined, nowMs: number): Promise<DcrRecord[]>;
  /**
   * Atomically: the unexpired record if there is one; otherwise a new lease
   * `leaseId` for `ttlMs` unless another lease is in force.
   */
  acquire(key: DcrKey, leaseId: string, ttlMs: number, nowMs: number): Promise<DcrAcquisition>;
  /** When the lease in force on `key` ends; undefined when there is none. */
  leaseExpiry(key: DcrKey, nowMs: number): Promise<number | undefined>;
  /**
   * Replaces the record under `key` by what `reseal` makes of it (its secrets
   * sealed again), in one atomic step that keeps its eviction time; `reseal`
   * answers undefined to leave it. True when replaced; false when there is no
   * readable record or nothing to do; AbortedError when another writer
   * changed the record in between (nothing written).
   */
  reseal(key: DcrKey, reseal: (record: DcrRecord) => DcrRecord | undefined, nowMs: number): Promise<boolean>;
}

/**
 * What a put under a lease that expired (and may have passed to another
 * registrant) throws, on either backend: its late write would replace the
 * newer registration and orphan one of the two clients.
 */
export function leaseLost(): AbortedError {
  return new AbortedError(
    "lease_lost: the registration lease expired or passed to another caller; nothing was written. " +
      "Acquire again to get the stored resolution, and delete the client registered under the lost lease",
  );
}
