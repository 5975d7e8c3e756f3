import type { Redis } from "ioredis";
import { AlreadyExistsError } from "../../errors.js";
import type { StoredToken } from "../../model/token.js";
import type { TokenStore } from "../store.js";
import { redisCall } from "./redis-connection.js";
import { invalidationMessage } from "./redis-invalidations.js";
import type { RedisKeys } from "./redis-keys.js";
import { execAll, pairsToObject } from "./redis-replies.js";
import { RedisScript } from "./redis-script.js";

const scripts = {
  insertToken: new RedisScript("insert-token.lua"),
  claimBootstrap: new RedisScript("claim-bootstrap.lua"),
  revokeToken: new RedisScript("revoke-token.lua"),
  touchToken: new RedisScript("touch-token.lua"),
};

type TokenData = Omit<StoredToken, "revokedAt" | "lastUsedAt">;

export function redisTokenStore(client: Redis, keys: RedisKeys): TokenStore {
  const announce = (id: string) => [keys.invalidations, invalidationMessage("token", id)];
  const creationArgs = (token: StoredToken) => [token.id, JSON.stringify(immutablePart(token)), token.createdAt, ...announce(token.id)];
  return {
    async insert(token) {
      const created = await redisCall(() =>
        scripts.insertToken.run(client, [keys.token(token.id), keys.tokenIndex], creationArgs(token)),
      );
      if (created !== 1) throw new AlreadyExistsError(`token ${token.id} already exists`);
    },
    async get(id) {
      const fields = await redisCall(() => client.hgetall(keys.token(id)));
      return fromFields(fields);
    },
    async list() {
      const ids = await redisCall(() => client.zrange(keys.tokenIndex, 0, -1));
      if (ids.length === 0) return [];
      const pipeline = client.pipeline();
      for (const id of ids) pipeline.hgetall(keys.token(id));
      const replies = await redisCall(() => execAll(pipeline));
      return replies.flatMap((fields) => fromFields(fields as Record<string, string>) ?? []);
    },
    async revoke(id, at) {
      const reply = await redisCall(() => scripts.revokeToken.run(client, [keys.token(id)], [at, ...announce(id)]));
      return reply === null ? undefined : fromFields(pairsToObject(reply as string[]));
    },
    async touch(id, at) {
      await redisCall(() => scripts.touchToken.run(client, [keys.token(id)], [at]));
    },
    async claimBootstrap(token) {
      const outcome = await redisCall(() =>
        scripts.claimBootstrap.run(
          client,
          [keys.bootstrapMarker, keys.token(token.id), keys.tokenIndex],
          creationArgs(token),
        ),
      );
      if (outcome === -1) throw new AlreadyExistsError(`token ${token.id} already exists`);
      return outcome === 1;
    },
  };
}

function immutablePart(token: StoredToken): TokenData {
  const { revokedAt: _revoked, lastUsedAt: _used, ...data } = token;
  return data;
}

function fromFields(fields: Record<string, string>): StoredToken | undefined {
  if (fields.data === undefined) return undefined;
  const token = JSON.parse(fields.data) as StoredToken;
  if (fields.revoked_at !== undefined) token.revokedAt = Number(fields.revoked_at);
  if (fields.last_used_at !== undefined) token.lastUsedAt = Number(fields.last_used_at);
  return token;
}
