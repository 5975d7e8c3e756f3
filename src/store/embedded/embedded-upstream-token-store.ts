import { encodeUpstreamTokenKey } from "../../model/upstream-token.js";
import type { UpstreamTokenStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { unchanged, type PersistentDocument } from "./persistent-document.js";

/** Entries handed over at a time by `scan`: its copies stay bounded whatever the vault's size. */
const SCAN_BATCH = 500;

/**
 * The vault in the data file. The refresh lease lives in memory only: one
 * process owns the data dir, and a lease must not outlive the process that
 * took it.
 */
export function embeddedUpstreamTokenStore(document: PersistentDocument<EmbeddedState>): UpstreamTokenStore {
  const leases = new Map<string, { leaseId: string; expiresAt: number }>();
  // A lapsed lease nobody took over still guards the write: no other refresh can have come in between.
  const holds = (encoded: string, leaseId: string) => leases.get(encoded)?.leaseId === leaseId;
  return {
    async get(key) {
      const record = document.current.upstreamTokens.get(encodeUpstreamTokenKey(key));
      return record === undefined ? undefined : structuredClone(record);
    },
    async put(record, leaseId) {
      const encoded = encodeUpstreamTokenKey(record);
      if (leaseId !== undefined && !holds(encoded, leaseId)) return false;
      await document.update((draft) => {
        draft.upstreamTokens.set(encoded, structuredClone(record));
      });
      if (leaseId !== undefined) leases.delete(encoded);
      return true;
    },
    async delete(key) {
      const encoded = encodeUpstreamTokenKey(key);
      if (!document.current.upstreamTokens.has(encoded)) return false;
      return document.update((draft) => draft.upstreamTokens.delete(encoded));
    },
    deleteAll(principal) {
      return document.update((draft) => {
        let deleted = 0;
        for (const [encoded, record] of draft.upstreamTokens) {
          if (record.principal !== principal) continue;
          draft.upstreamTokens.delete(encoded);
          deleted++;
        }
        return deleted === 0 ? unchanged(0) : deleted;
      });
    },
    async list(principal) {
      return [...document.current.upstreamTokens.values()]
        .filter((record) => record.principal === principal)
        .sort((a, b) => (a.upstreamId < b.upstreamId ? -1 : a.upstreamId > b.upstreamId ? 1 : 0))
        .map((record) => structuredClone(record));
    },
    async scan(onBatch) {
      const encodedKeys = [...document.current.upstreamTokens.keys()];
      for (let start = 0; start < encodedKeys.length; start += SCAN_BATCH) {
        const records = encodedKeys
          .slice(start, start + SCAN_BATCH)
          .flatMap((encoded) => {
            const record = document.current.upstreamTokens.get(encoded);
            return record === undefined ? [] : [structuredClone(record)];
          });
        if (records.length > 0) await onBatch(records);
      }
    },
    reseal(key, reseal) {
      const encoded = encodeUpstreamTokenKey(key);
      // Read, sealed again and written in one serialized update: no other write can come in between.
      return document.update((draft) => {
        const record = draft.upstreamTokens.get(encoded);
        const next = record === undefined ? undefined : reseal(structuredClone(record));
        if (next === undefined) return unchanged(false);
        draft.upstreamTokens.set(encoded, structuredClone(next));
        return true;
      });
    },
    async acquireLease(key, leaseId, ttlMs, nowMs) {
      const encoded = encodeUpstreamTokenKey(key);
      const lease = leases.get(encoded);
      if (lease !== undefined && lease.expiresAt > nowMs) return false;
      leases.set(encoded, { leaseId, expiresAt: nowMs + ttlMs });
      return true;
    },
    async releaseLease(key, leaseId) {
      const encoded = encodeUpstreamTokenKey(key);
      if (leases.get(encoded)?.leaseId === leaseId) leases.delete(encoded);
    },
  };
}
