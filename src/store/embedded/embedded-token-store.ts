import { AlreadyExistsError } from "../../errors.js";
import type { StoredToken } from "../../model/token.js";
import type { InvalidationHub } from "../invalidation.js";
import type { TokenStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { REVOCATION, unchanged, type PersistentDocument } from "./persistent-document.js";

/** Every change that decides access is told to `invalidations` once it is durable (a use is not). */
export function embeddedTokenStore(document: PersistentDocument<EmbeddedState>, invalidations: InvalidationHub): TokenStore {
  return {
    async insert(token) {
      await document.update((draft) => {
        if (draft.tokens.has(token.id)) throw new AlreadyExistsError(`token ${token.id} already exists`);
        draft.tokens.set(token.id, structuredClone(token));
      });
      invalidations.changed("token", token.id);
    },
    async get(id) {
      const token = document.current.tokens.get(id);
      return token === undefined ? undefined : frozen(token);
    },
    async list() {
      return [...document.current.tokens.values()].map((token) => structuredClone(token)).sort(oldestFirst);
    },
    async revoke(id, at) {
      const revoked = await document.update((draft) => {
        const token = draft.tokens.get(id);
        if (token === undefined || token.revokedAt !== undefined) return unchanged(undefined);
        token.revokedAt = at;
        return structuredClone(token);
      }, REVOCATION);
      if (revoked !== undefined) invalidations.changed("token", id);
      return revoked;
    },
    async setActive(id, active, at) {
      const changed = await document.update((draft) => {
        const token = draft.tokens.get(id);
        if (token === undefined || token.revokedAt !== undefined || (token.deactivatedAt === undefined) === active) return unchanged(undefined);
        if (active) delete token.deactivatedAt;
        else token.deactivatedAt = at;
        return structuredClone(token);
      }, active ? undefined : REVOCATION);
      if (changed !== undefined) invalidations.changed("token", id);
      return changed;
    },
    async touch(id, at) {
      if (!document.current.tokens.has(id)) return;
      await document.update((draft) => {
        const token = draft.tokens.get(id);
        if (token === undefined) return unchanged(undefined);
        token.lastUsedAt = at;
      });
    },
    async claimBootstrap(token) {
      const created = await document.update((draft) => {
        if (draft.bootstrapTokenId !== undefined) return unchanged(false);
        if (draft.tokens.has(token.id)) throw new AlreadyExistsError(`token ${token.id} already exists`);
        draft.tokens.set(token.id, structuredClone(token));
        draft.bootstrapTokenId = token.id;
        return true;
      });
      if (created) invalidations.changed("token", token.id);
      return created;
    },
  };
}

/**
 * Read on every decision, so handed out without a copy: an update works on a
 * clone of the state and publishes it whole, so a published record never has
 * to change again, and freezing it keeps a reader from changing it either.
 */
function frozen(token: StoredToken): Readonly<StoredToken> {
  if (!Object.isFrozen(token)) {
    Object.freeze(token.scopes);
    Object.freeze(token.allowedLibraries);
    Object.freeze(token.allowedTools);
    Object.freeze(token);
  }
  return token;
}

/** The order a Redis sorted set scored by creation time gives: ties by id, byte-wise. */
function oldestFirst(a: StoredToken, b: StoredToken): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
