import { randomUUID } from "node:crypto";
import type { Clock } from "../clock.js";
import { InvalidArgumentError, NotFoundError } from "../errors.js";
import { isTeamId, type StoredTeam } from "../model/team.js";
import type { TeamStore } from "../store/store.js";
import { checkedList, checkedName } from "./mint-validation.js";
import { optionalOwner } from "./owner-admin.js";

/** A team id as given by a caller: a UUID, or InvalidArgumentError. */
export function checkedTeamId(id: string): string {
  if (!isTeamId(id)) throw new InvalidArgumentError("team_id", "must be a team's UUID");
  return id;
}

export function checkedLibraries(libraries: string[]): string[] {
  return checkedList("libraries", libraries, 1000, 256);
}

/** Teams that team tokens speak for; every operation first proves the caller is root. */
export function createTeamAdmin(deps: {
  requireRoot: (authorization: string) => Promise<unknown>;
  teams: TeamStore;
  clock: Clock;
}) {
  async function find(id: string): Promise<StoredTeam> {
    const team = await deps.teams.get(checkedTeamId(id));
    if (team === undefined) throw new NotFoundError(`team ${id} not found`);
    return team;
  }

  return {
    async create(authorization: string, input: { name: string; libraries: string[]; owner?: string }): Promise<StoredTeam> {
      await deps.requireRoot(authorization);
      if (input.name.trim() === "") throw new InvalidArgumentError("name", "is required");
      const owner = optionalOwner("owner", input.owner);
      const team: StoredTeam = {
        id: randomUUID(),
        name: checkedName("name", input.name),
        ...(owner === undefined ? {} : { owner }),
        libraries: checkedLibraries(input.libraries),
        createdAt: deps.clock(),
      };
      await deps.teams.insert(team);
      return team;
    },

    async get(authorization: string, id: string): Promise<StoredTeam> {
      await deps.requireRoot(authorization);
      return find(id);
    },

    async list(authorization: string): Promise<StoredTeam[]> {
      await deps.requireRoot(authorization);
      return deps.teams.list();
    },

    async deactivate(authorization: string, id: string): Promise<StoredTeam> {
      await deps.requireRoot(authorization);
      await find(id);
      const team = await deps.teams.deactivate(id, deps.clock());
      if (team === undefined) throw new NotFoundError(`team ${id} is already deactivated`);
      return team;
    },

    async assignLibraries(authorization: string, id: string, libraries: string[]): Promise<StoredTeam> {
      await deps.requireRoot(authorization);
      const team = await deps.teams.assignLibraries(checkedTeamId(id), checkedLibraries(libraries));
      if (team === undefined) throw new NotFoundError(`team ${id} not found`);
      return team;
    },
  };
}

export type TeamAdmin = ReturnType<typeof createTeamAdmin>;
