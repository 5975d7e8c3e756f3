import type { JtiClaim, JtiStore } from "../store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { unchanged, type PersistentDocument } from "./persistent-document.js";

/**
 * Claims run one at a time (serialized updates), which makes them atomic.
 * A lapsed record counts as absent when read and is purged on the next write.
 */
export function embeddedJtiStore(document: PersistentDocument<EmbeddedState>): JtiStore {
  return {
    claim(id, value, retainUntil, now) {
      return document.update<JtiClaim>((draft) => {
        const live = draft.jti.get(id);
        if (live !== undefined && live.until > now) return unchanged({ created: false, value: live.value });
        for (const [key, record] of draft.jti) if (record.until <= now) draft.jti.delete(key);
        draft.jti.set(id, { value, until: retainUntil });
        return { created: true, value };
      });
    },
  };
}
