import { randomBytes } from "node:crypto";
import { AlreadyExistsError } from "../../errors.js";
import type { OAuthStateConsumption, OAuthStateLookup, OAuthStateStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { unchanged, type PersistentDocument } from "./persistent-document.js";

export function embeddedOAuthStateStore(document: PersistentDocument<EmbeddedState>): OAuthStateStore {
  const pruneExpired = (draft: EmbeddedState, nowMs: number) => {
    for (const [stateId, entry] of draft.oauthStates) {
      const until = "record" in entry ? entry.record.expiresAt : entry.consumedUntil;
      if (until <= nowMs) draft.oauthStates.delete(stateId);
    }
  };
  const lookup = (state: EmbeddedState, stateId: string, nowMs: number): OAuthStateLookup => {
    const entry = state.oauthStates.get(stateId);
    if (entry === undefined) return { unknown: true };
    if (!("record" in entry)) return entry.consumedUntil > nowMs ? { used: true } : { unknown: true };
    return entry.record.expiresAt > nowMs ? { record: structuredClone(entry.record) } : { unknown: true };
  };
  return {
    insert(stateId, record) {
      return document.update((draft) => {
        pruneExpired(draft, record.createdAt);
        if (draft.oauthStates.has(stateId)) throw new AlreadyExistsError("an OAuth flow with this state exists already");
        draft.oauthStates.set(stateId, { record: structuredClone(record) });
      });
    },
    async find(stateId, nowMs) {
      return lookup(document.current, stateId, nowMs);
    },
    consume(stateId, nowMs) {
      return document.update<OAuthStateConsumption>((draft) => {
        pruneExpired(draft, nowMs);
        const entry = draft.oauthStates.get(stateId);
        if (entry === undefined) return { unknown: true };
        if (!("record" in entry)) return { used: true };
        const claim = randomBytes(16).toString("hex");
        draft.oauthStates.set(stateId, { consumedUntil: entry.record.expiresAt, claim });
        return { record: entry.record, claim };
      });
    },
    restore(stateId, claim, record, nowMs) {
      return document.update((draft) => {
        const entry = draft.oauthStates.get(stateId);
        if (entry === undefined || "record" in entry || entry.claim !== claim || entry.consumedUntil <= nowMs) return unchanged(false);
        draft.oauthStates.set(stateId, { record: structuredClone(record) });
        return true;
      });
    },
  };
}
