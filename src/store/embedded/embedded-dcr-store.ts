import { encodeDcrKey } from "../../model/dcr-key.js";
import { dcrSecretExpired } from "../../model/dcr-record.js";
import { dcrEvictionTtlMs } from "../dcr-expiry.js";
import { leaseLost } from "../dcr-store.js";
import type { DcrAcquisition, DcrStore } from "../store.js";
import type { EmbeddedDcrEntry, EmbeddedState } from "./embedded-state.js";
import { unchanged, type PersistentDocument } from "./persistent-document.js";

/** Same semantics as the Redis layout: eviction and lease expiry are checked on read, pruned on write. */
export function embeddedDcrStore(document: PersistentDocument<EmbeddedState>): DcrStore {
  const live = (entry: EmbeddedDcrEntry | undefined, nowMs: number) =>
    entry !== undefined && (entry.evictAt === undefined || entry.evictAt > nowMs) ? entry : undefined;
  const liveLease = (state: EmbeddedState, encoded: string, nowMs: number) => {
    const lease = state.dcrLeases.get(encoded);
    return lease !== undefined && lease.expiresAt > nowMs ? lease : undefined;
  };
  const prune = (draft: EmbeddedState, nowMs: number) => {
    for (const [encoded, entry] of draft.dcr) if (!live(entry, nowMs)) draft.dcr.delete(encoded);
    for (const encoded of draft.dcrLeases.keys()) if (!liveLease(draft, encoded, nowMs)) draft.dcrLeases.delete(encoded);
  };
  return {
    async get(key, nowMs) {
      const entry = live(document.current.dcr.get(encodeDcrKey(key)), nowMs);
      return entry === undefined ? undefined : structuredClone(entry.record);
    },
    put(record, nowMs, leaseId) {
      const encoded = encodeDcrKey(record.key);
      return document.update((draft) => {
        if (leaseId !== undefined && liveLease(draft, encoded, nowMs)?.leaseId !== leaseId) throw leaseLost();
        prune(draft, nowMs);
        const ttlMs = dcrEvictionTtlMs(record, nowMs);
        draft.dcr.set(encoded, { record: structuredClone(record), ...(ttlMs === undefined ? {} : { evictAt: nowMs + ttlMs }) });
        if (leaseId !== undefined) draft.dcrLeases.delete(encoded);
        return { leaseReleased: leaseId !== undefined };
      });
    },
    async delete(key, nowMs) {
      const encoded = encodeDcrKey(key);
      if (!document.current.dcr.has(encoded)) return false;
      return document.update((draft) => {
        const existed = live(draft.dcr.get(encoded), nowMs) !== undefined;
        draft.dcr.delete(encoded);
        return existed;
      });
    },
    async list(issuer, nowMs) {
      return [...document.current.dcr.values()]
        .filter((entry) => live(entry, nowMs) && (issuer === undefined || entry.record.key.issuer === issuer))
        .map((entry) => structuredClone(entry.record));
    },
    acquire(key, leaseId, ttlMs, nowMs) {
      const encoded = encodeDcrKey(key);
      return document.update<DcrAcquisition>((draft) => {
        const entry = live(draft.dcr.get(encoded), nowMs);
        if (entry !== undefined && !dcrSecretExpired(entry.record, nowMs)) return unchanged({ record: structuredClone(entry.record) });
        const held = liveLease(draft, encoded, nowMs);
        if (held !== undefined) return unchanged({ held: { expiresAtMs: held.expiresAt } });
        prune(draft, nowMs);
        draft.dcrLeases.set(encoded, { leaseId, expiresAt: nowMs + ttlMs });
        return { lease: { leaseId, expiresAtMs: nowMs + ttlMs } };
      });
    },
    async leaseExpiry(key, nowMs) {
      return liveLease(document.current, encodeDcrKey(key), nowMs)?.expiresAt;
    },
    reseal(key, reseal, nowMs) {
      const encoded = encodeDcrKey(key);
      return document.update((draft) => {
        const entry = live(draft.dcr.get(encoded), nowMs);
        const next = entry === undefined ? undefined : reseal(structuredClone(entry.record));
        if (entry === undefined || next === undefined) return unchanged(false);
        entry.record = structuredClone(next);
        return true;
      });
    },
  };
}
