import { AlreadyExistsError } from "../../errors.js";
import type { SigningKeyRecord, StoredSigningKey } from "../../model/signing-key.js";
import type { SigningKeyStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { REVOCATION, unchanged, type PersistentDocument } from "./persistent-document.js";

export function embeddedSigningKeyStore(document: PersistentDocument<EmbeddedState>): SigningKeyStore {
  const record = (state: Readonly<EmbeddedState>, key: StoredSigningKey): SigningKeyRecord => ({
    ...structuredClone(key),
    state: key.retiredAt !== undefined ? "retired" : state.activeSigningKid === key.kid ? "active" : "verify_only",
  });
  return {
    create(key) {
      return document.update((draft) => {
        if (draft.signingKeys.has(key.kid)) throw new AlreadyExistsError(`signing key ${key.kid} already exists`);
        draft.signingKeys.set(key.kid, structuredClone(key));
        draft.activeSigningKid = key.kid;
      });
    },
    async get(kid) {
      const state = document.current;
      const key = state.signingKeys.get(kid);
      return key === undefined ? undefined : record(state, key);
    },
    async list() {
      const state = document.current;
      return [...state.signingKeys.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.kid < b.kid ? -1 : 1))
        .map((key) => record(state, key));
    },
    async active() {
      const state = document.current;
      const key = state.activeSigningKid === undefined ? undefined : state.signingKeys.get(state.activeSigningKid);
      return key === undefined ? undefined : record(state, key);
    },
    retire(kid, at) {
      return document.update((draft) => {
        const key = draft.signingKeys.get(kid);
        if (key === undefined || key.retiredAt !== undefined) return unchanged(undefined);
        key.retiredAt = at;
        if (draft.activeSigningKid === kid) delete draft.activeSigningKid;
        return record(draft, key);
      }, REVOCATION);
    },
  };
}
