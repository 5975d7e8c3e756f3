import { AlreadyExistsError } from "../../errors.js";
import type { SigningKeyRecord, StoredSigningKey } from "../../model/signing-key.js";
import type { InvalidationHub } from "../invalidation.js";
import type { SigningKeyStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { REVOCATION, unchanged, type PersistentDocument } from "./persistent-document.js";

/** Every change of a key's state is told to `invalidations` once it is durable. */
export function embeddedSigningKeyStore(document: PersistentDocument<EmbeddedState>, invalidations: InvalidationHub): SigningKeyStore {
  const record = (state: Readonly<EmbeddedState>, key: StoredSigningKey): SigningKeyRecord => ({
    ...structuredClone(key),
    state: key.retiredAt !== undefined ? "retired" : state.activeSigningKid === key.kid ? "active" : "verify_only",
  });
  return {
    async create(key) {
      // The key that signed so far becomes verify-only.
      const demoted = await document.update((draft) => {
        if (draft.signingKeys.has(key.kid)) throw new AlreadyExistsError(`signing key ${key.kid} already exists`);
        const previous = draft.activeSigningKid;
        draft.signingKeys.set(key.kid, structuredClone(key));
        draft.activeSigningKid = key.kid;
        return previous;
      });
      if (demoted !== undefined) invalidations.changed("signing_key", demoted);
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
    async retire(kid, at) {
      const retired = await document.update((draft) => {
        const key = draft.signingKeys.get(kid);
        if (key === undefined || key.retiredAt !== undefined) return unchanged(undefined);
        key.retiredAt = at;
        if (draft.activeSigningKid === kid) delete draft.activeSigningKid;
        return record(draft, key);
      }, REVOCATION);
      if (retired !== undefined) invalidations.changed("signing_key", kid);
      return retired;
    },
    async resealSecret(kid, reseal) {
      // One update: nothing can change the key between reading and writing it.
      const replaced = await document.update((draft) => {
        const key = draft.signingKeys.get(kid);
        const secret = key === undefined ? undefined : reseal(key.secret);
        if (key === undefined || secret === undefined) return unchanged(false);
        key.secret = secret;
        return true;
      });
      if (replaced) invalidations.changed("signing_key", kid);
      return replaced;
    },
  };
}
