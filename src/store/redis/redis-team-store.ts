import { AlreadyExistsError } from "../../errors.js";
import type { StoredTeam } from "../../model/team.js";
import type { TeamStore } from "../store.js";
import { concurrentRotation } from "../team-store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import { invalidationMessage } from "./redis-invalidations.js";
import type { RedisKeys } from "./redis-keys.js";
import { execAll, pairsToObject } from "./redis-replies.js";
import { RedisScript, type Durability } from "./redis-script.js";

const scripts = {
  insert: new RedisScript("insert-team.lua"),
  change: new RedisScript("change-team.lua"),
  rotateJti: new RedisScript("rotate-team-jti.lua"),
  clearJti: new RedisScript("clear-team-jti.lua"),
};

type TeamData = Pick<StoredTeam, "id" | "name" | "owner" | "createdAt">;

export function redisTeamStore(client: RedisClient, keys: RedisKeys, durability: Durability): TeamStore {
  const announce = (id: string) => [keys.invalidations, invalidationMessage("team", id)];
  async function change(id: string, field: string, value: string | number, activeOnly: boolean) {
    const reply = await redisCall(() =>
      scripts.change.runDurably(client, durability, [keys.team(id)], [field, value, activeOnly ? "active" : "any", ...announce(id)]),
    );
    return teamOf(reply);
  }
  return {
    async insert(team) {
      const data: TeamData = { id: team.id, name: team.name, ...(team.owner === undefined ? {} : { owner: team.owner }), createdAt: team.createdAt };
      const created = await redisCall(() =>
        scripts.insert.run(
          client,
          [keys.team(team.id), keys.teamIndex],
          [team.id, JSON.stringify(data), JSON.stringify(team.libraries), team.createdAt],
        ),
      );
      if (created !== 1) throw new AlreadyExistsError(`team ${team.id} already exists`);
    },
    async get(id) {
      return fromFields(await redisCall(() => client.hgetall(keys.team(id))));
    },
    async list() {
      const ids = await redisCall(() => client.zrange(keys.teamIndex, 0, -1));
      if (ids.length === 0) return [];
      const batch = client.pipeline();
      for (const id of ids) batch.hgetall(keys.team(id));
      const replies = await redisCall(() => execAll(batch));
      return replies.flatMap((fields) => fromFields(fields as Record<string, string>) ?? []);
    },
    deactivate: (id, at) => change(id, "deactivated_at", at, true),
    assignLibraries: (id, libraries) => change(id, "libraries", JSON.stringify(libraries), false),
    async clearJti(id, jti) {
      return (await redisCall(() => scripts.clearJti.runDurably(client, durability, [keys.team(id)], [jti, ...announce(id)]))) === 1;
    },
    async rotateJti(id, expected, jti) {
      const reply = await redisCall(() => scripts.rotateJti.runDurably(client, durability, [keys.team(id)], [expected ?? "", jti, ...announce(id)]));
      if (reply === 0) throw concurrentRotation(id);
      return teamOf(reply);
    },
  };
}

/** A script's answer: the team's fields, or nil when there is no such team. */
function teamOf(reply: unknown): StoredTeam | undefined {
  return reply === null ? undefined : fromFields(pairsToObject(reply as string[]));
}

function fromFields(fields: Record<string, string>): StoredTeam | undefined {
  if (fields.data === undefined) return undefined;
  const team: StoredTeam = { ...(JSON.parse(fields.data) as TeamData), libraries: JSON.parse(fields.libraries ?? "[]") as string[] };
  if (fields.active_jti !== undefined) team.activeJti = fields.active_jti;
  if (fields.deactivated_at !== undefined) team.deactivatedAt = Number(fields.deactivated_at);
  return team;
}
