import { AlreadyExistsError } from "../../errors.js";
import type { StoredToken } from "../../model/token.js";
import type { TokenStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import { invalidationMessage } from "./redis-invalidations.js";
import type { RedisKeys } from "./redis-keys.js";
import { pairsToObject } from "./redis-replies.js";
import { hgetallEach, scanEveryMaster } from "./redis-scan.js";
import { RedisScript, type Durability } from "./redis-script.js";

const scripts = {
  insertToken: new RedisScript("insert-token.lua"),
  claimBootstrap: new RedisScript("claim-bootstrap.lua"),
  revokeToken: new RedisScript("revoke-token.lua"),
  touchToken: new RedisScript("touch-token.lua"),
  setActive: new RedisScript("set-token-active.lua"),
};

type TokenData = Omit<StoredToken, "revokedAt" | "deactivatedAt" | "lastUsedAt">;

export function redisTokenStore(client: RedisClient, keys: RedisKeys, durability: Durability): TokenStore {
  const announce = (id: string) => [keys.invalidations, invalidationMessage("token", id)];
  return {
    async insert(token) {
      const created = await redisCall(() =>
        scripts.insertToken.runDurably(client, durability, [keys.token(token.id)], [JSON.stringify(immutablePart(token)), ...announce(token.id)]),
      );
      if (created !== 1) throw new AlreadyExistsError(`token ${token.id} already exists`);
    },
    async get(id) {
      const fields = await redisCall(() => client.hgetall(keys.token(id)));
      return fromFields(fields);
    },
    async list() {
      const tokens: StoredToken[] = [];
      await redisCall(() =>
        scanEveryMaster(client, keys.tokenPattern, async (node, found) => {
          for (const fields of await hgetallEach(node, found)) {
            const token = fromFields(fields);
            if (token !== undefined) tokens.push(token);
          }
        }),
      );
      return tokens.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    },
    async revoke(id, at) {
      const reply = await redisCall(() => scripts.revokeToken.runDurably(client, durability, [keys.token(id)], [at, ...announce(id)]));
      return reply === null ? undefined : fromFields(pairsToObject(reply as string[]));
    },
    async setActive(id, active, at) {
      const reply = await redisCall(() =>
        scripts.setActive.runDurably(client, durability, [keys.token(id)], [active ? "reactivate" : "deactivate", at, ...announce(id)]),
      );
      return reply === null ? undefined : fromFields(pairsToObject(reply as string[]));
    },
    async touch(id, at) {
      await redisCall(() => scripts.touchToken.run(client, [keys.token(id)], [at]));
    },
    async claimBootstrap(token) {
      // Not waited for: a replica missing at the very first start must not leave a
      // claim without a token (the root token file is written only on success).
      const claimed = await redisCall(() => scripts.claimBootstrap.run(client, [keys.bootstrapMarker], [token.id]));
      if (claimed !== 1) return false;
      let created: unknown;
      try {
        created = await redisCall(() =>
          scripts.insertToken.run(client, [keys.token(token.id)], [JSON.stringify(immutablePart(token)), ...announce(token.id)]),
        );
      } catch (error) {
        // Our claim (SET NX) stands alone: giving it back lets the next start bootstrap.
        await client.del(keys.bootstrapMarker).catch(() => undefined);
        throw error;
      }
      if (created === 1) return true;
      await redisCall(() => client.del(keys.bootstrapMarker));
      throw new AlreadyExistsError(`token ${token.id} already exists`);
    },
  };
}

function immutablePart(token: StoredToken): TokenData {
  const { revokedAt: _revoked, deactivatedAt: _deactivated, lastUsedAt: _used, ...data } = token;
  return data;
}

function fromFields(fields: Record<string, string>): StoredToken | undefined {
  if (fields.data === undefined) return undefined;
  const token = JSON.parse(fields.data) as StoredToken;
  if (fields.revoked_at !== undefined) token.revokedAt = Number(fields.revoked_at);
  if (fields.deactivated_at !== undefined) token.deactivatedAt = Number(fields.deactivated_at);
  if (fields.last_used_at !== undefined) token.lastUsedAt = Number(fields.last_used_at);
  return token;
}
