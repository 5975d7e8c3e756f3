import { AlreadyExistsError } from "../../errors.js";
import type { OAuthStateConsumption, OAuthStateStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import type { PersistentDocument } from "./persistent-document.js";

export function embeddedOAuthStateStore(document: PersistentDocument<EmbeddedState>): OAuthStateStore {
  const pruneExpired = (draft: EmbeddedState, nowMs: number) => {
    for (const [stateId, entry] of draft.oauthStates) {
      const until = "record" in entry ? entry.record.expiresAt : entry.consumedUntil;
      if (until <= nowMs) draft.oauthStates.delete(stateId);
    }
  };
  return {
    insert(stateId, record) {
      return document.update((draft) => {
        pruneExpired(draft, record.createdAt);
        if (draft.oauthStates.has(stateId)) throw new AlreadyExistsError("an OAuth flow with this state exists already");
        draft.oauthStates.set(stateId, { record: structuredClone(record) });
      });
    },
    consume(stateId, nowMs) {
      return document.update<OAuthStateConsumption>((draft) => {
        pruneExpired(draft, nowMs);
        const entry = draft.oauthStates.get(stateId);
        if (entry === undefined) return { unknown: true };
        if (!("record" in entry)) return { used: true };
        draft.oauthStates.set(stateId, { consumedUntil: entry.record.expiresAt });
        return { record: entry.record };
      });
    },
  };
}
