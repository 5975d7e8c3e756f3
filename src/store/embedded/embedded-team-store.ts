import { AlreadyExistsError } from "../../errors.js";
import type { StoredTeam } from "../../model/team.js";
import type { InvalidationHub } from "../invalidation.js";
import type { TeamStore } from "../store.js";
import { concurrentRotation } from "../team-store.js";
import type { EmbeddedState } from "./embedded-state.js";
import { REVOCATION, unchanged, type PersistentDocument, type UpdateOptions } from "./persistent-document.js";

/** Every change is told to `invalidations` once it is durable. */
export function embeddedTeamStore(document: PersistentDocument<EmbeddedState>, invalidations: InvalidationHub): TeamStore {
  /** Applies `change` to an existing team (active only, when asked) and answers the result. */
  const changeTeam = async (id: string, activeOnly: boolean, change: (team: StoredTeam) => void, options?: UpdateOptions) => {
    const changed = await document.update((draft) => {
      const team = draft.teams.get(id);
      if (team === undefined || (activeOnly && team.deactivatedAt !== undefined)) return unchanged(undefined);
      change(team);
      return structuredClone(team);
    }, options);
    if (changed !== undefined) invalidations.changed("team", id);
    return changed;
  };
  return {
    insert(team) {
      return document.update((draft) => {
        if (draft.teams.has(team.id)) throw new AlreadyExistsError(`team ${team.id} already exists`);
        draft.teams.set(team.id, structuredClone(team));
      });
    },
    async get(id) {
      const team = document.current.teams.get(id);
      return team === undefined ? undefined : structuredClone(team);
    },
    async list() {
      return [...document.current.teams.values()]
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map((team) => structuredClone(team));
    },
    deactivate(id, at) {
      return changeTeam(
        id,
        true,
        (team) => {
          team.deactivatedAt = at;
        },
        REVOCATION,
      );
    },
    assignLibraries(id, libraries) {
      return changeTeam(id, false, (team) => {
        team.libraries = [...libraries];
      });
    },
    async clearJti(id, jti) {
      const cleared = await document.update((draft) => {
        const team = draft.teams.get(id);
        if (team?.activeJti !== jti) return unchanged(false);
        delete team.activeJti;
        return true;
      });
      if (cleared) invalidations.changed("team", id);
      return cleared;
    },
    rotateJti(id, expected, jti) {
      return changeTeam(id, true, (team) => {
        if (team.activeJti !== expected) throw concurrentRotation(id);
        team.activeJti = jti;
      });
    },
  };
}
