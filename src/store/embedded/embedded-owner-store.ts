import type { InvalidationHub } from "../invalidation.js";
import type { OwnerStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { REVOCATION, unchanged, type PersistentDocument } from "./persistent-document.js";

/** Every change of state is told to `invalidations` once it is durable. */
export function embeddedOwnerStore(document: PersistentDocument<EmbeddedState>, invalidations: InvalidationHub): OwnerStore {
  return {
    async get(id) {
      const status = document.current.owners.get(id);
      return status === undefined ? undefined : structuredClone(status);
    },
    async setActive(id, active, at, by) {
      const changed = await document.update(
        (draft) => {
          const status = draft.owners.get(id);
          if ((status?.deactivatedAt === undefined) === active) return unchanged(undefined);
          const next = { id, changedAt: at, changedBy: by, ...(active ? {} : { deactivatedAt: at }) };
          draft.owners.set(id, next);
          return structuredClone(next);
        },
        // Taking access away may spend the space reserve, as a revocation does.
        active ? undefined : REVOCATION,
      );
      if (changed !== undefined) invalidations.changed("owner", id);
      return changed;
    },
  };
}
