import type { OwnerStatus } from "../../model/owner.js";
import type { OwnerStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import { invalidationMessage } from "./redis-invalidations.js";
import type { RedisKeys } from "./redis-keys.js";
import { pairsToObject } from "./redis-replies.js";
import { RedisScript, type Durability } from "./redis-script.js";

const setOwnerState = new RedisScript("set-owner-state.lua");

export function redisOwnerStore(client: RedisClient, keys: RedisKeys, durability: Durability): OwnerStore {
  return {
    async get(id) {
      return fromFields(id, await redisCall(() => client.hgetall(keys.owner(id))));
    },
    async setActive(id, active, at, by) {
      const reply = await redisCall(() =>
        setOwnerState.runDurably(
          client,
          durability,
          [keys.owner(id)],
          [active ? "reactivate" : "deactivate", at, by, keys.invalidations, invalidationMessage("owner", id)],
        ),
      );
      return reply === null ? undefined : fromFields(id, pairsToObject(reply as string[]));
    },
  };
}

function fromFields(id: string, fields: Record<string, string>): OwnerStatus | undefined {
  if (fields.changed_at === undefined) return undefined;
  const status: OwnerStatus = { id, changedAt: Number(fields.changed_at), changedBy: fields.changed_by ?? "" };
  if (fields.deactivated_at !== undefined) status.deactivatedAt = Number(fields.deactivated_at);
  return status;
}
