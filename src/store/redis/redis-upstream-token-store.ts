import { AbortedError } from "../../errors.js";
import type { UpstreamTokenKey, UpstreamTokenRecord } from "../../model/upstream-token.js";
import type { UpstreamTokenStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { getEach, scanEveryMaster } from "./redis-scan.js";
import { RedisScript, type Durability } from "./redis-script.js";

const scripts = {
  putUpstreamToken: new RedisScript("put-upstream-token.lua"),
  deleteUpstreamTokens: new RedisScript("delete-upstream-tokens.lua"),
  releaseUpstreamTokenLease: new RedisScript("release-upstream-token-lease.lua"),
  resealString: new RedisScript("reseal-string.lua"),
};

/** The vault: one JSON string per entry (secrets sealed), a set of upstream ids per principal, and refresh leases. */
export function redisUpstreamTokenStore(client: RedisClient, keys: RedisKeys, durability: Durability): UpstreamTokenStore {
  const remove = async (principal: string, upstreamIds: string[]) => {
    if (upstreamIds.length === 0) return 0;
    const entries = upstreamIds.map((upstreamId) => keys.upstreamToken({ principal, upstreamId }));
    const deleted = await redisCall(() =>
      scripts.deleteUpstreamTokens.runDurably(client, durability, [keys.upstreamTokenIndex(principal), ...entries], upstreamIds),
    );
    return Number(deleted);
  };
  return {
    async get(key) {
      const value = await redisCall(() => client.get(keys.upstreamToken(key)));
      return value === null ? undefined : decodeUpstreamToken(value, key);
    },
    async put(record, leaseId) {
      const written = await redisCall(() =>
        scripts.putUpstreamToken.runDurably(
          client,
          durability,
          [keys.upstreamToken(record), keys.upstreamTokenIndex(record.principal), keys.upstreamTokenLease(record)],
          [JSON.stringify(record), record.upstreamId, leaseId ?? ""],
        ),
      );
      return written === 1;
    },
    async delete(key) {
      return (await remove(key.principal, [key.upstreamId])) > 0;
    },
    async deleteAll(principal) {
      const upstreamIds = await redisCall(() => client.smembers(keys.upstreamTokenIndex(principal)));
      return remove(principal, upstreamIds);
    },
    async list(principal) {
      const upstreamIds = (await redisCall(() => client.smembers(keys.upstreamTokenIndex(principal)))).sort();
      if (upstreamIds.length === 0) return [];
      const values = await redisCall(() => client.mget(...upstreamIds.map((upstreamId) => keys.upstreamToken({ principal, upstreamId }))));
      return values.flatMap((value, index) => {
        const record = value === null ? undefined : decodeUpstreamToken(value, { principal, upstreamId: upstreamIds[index]! });
        return record === undefined ? [] : [record];
      });
    },
    async scan(onBatch) {
      // What `onBatch` throws comes out as it is: only Redis's own failures are Unavailable.
      let batchFailure: { error: unknown } | undefined;
      try {
        await redisCall(() =>
          scanEveryMaster(client, keys.upstreamTokenPattern, async (node, found) => {
            const values = await getEach(node, found);
            const records = values.flatMap((value, index) => {
              const record = value === null ? undefined : decodeUpstreamToken(value);
              // An entry is read under the key its own principal and upstream id name, or not at all.
              return record === undefined || keys.upstreamToken(record) !== found[index] ? [] : [record];
            });
            if (records.length === 0) return;
            try {
              await onBatch(records);
            } catch (error) {
              batchFailure = { error };
              throw error;
            }
          }),
        );
      } catch (error) {
        throw batchFailure === undefined ? error : batchFailure.error;
      }
    },
    async reseal(key, reseal) {
      const entry = keys.upstreamToken(key);
      const value = await redisCall(() => client.get(entry));
      const record = value === null ? undefined : decodeUpstreamToken(value, key);
      const next = record === undefined ? undefined : reseal(record);
      if (next === undefined) return false;
      const replaced = await redisCall(() => scripts.resealString.runDurably(client, durability, [entry], [value!, JSON.stringify(next)]));
      if (replaced !== 1) throw new AbortedError(`the vault entry for upstream ${key.upstreamId} changed while it was re-sealed; nothing was written`);
      return true;
    },
    async acquireLease(key, leaseId, ttlMs) {
      return (await redisCall(() => client.set(keys.upstreamTokenLease(key), leaseId, "PX", ttlMs, "NX"))) === "OK";
    },
    async releaseLease(key, leaseId) {
      await redisCall(() => scripts.releaseUpstreamTokenLease.run(client, [keys.upstreamTokenLease(key)], [leaseId]));
    },
  };
}

/**
 * A stored entry, or undefined when it is not one (or names another key
 * than `key`, when given): the vault then treats it as absent, which asks
 * for a new login rather than sending a token read from a value it does not
 * understand.
 */
function decodeUpstreamToken(value: string, key?: UpstreamTokenKey): UpstreamTokenRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  const texts = ["principal", "upstreamId", "accessToken", "refreshToken", "tokenType", "tokenEndpoint", "clientId", "tokenEndpointAuthMethod", "clientSecret", "resource"];
  const numbers = ["expiresAt", "createdAt", "refreshedAt"];
  if (texts.some((name) => typeof record[name] !== "string")) return undefined;
  if (numbers.some((name) => !Number.isSafeInteger(record[name]))) return undefined;
  if (!Array.isArray(record.scopes) || record.scopes.some((scope) => typeof scope !== "string")) return undefined;
  const dcrKey = record.dcrKey as Record<string, unknown> | undefined;
  if (dcrKey !== undefined && ["issuer", "upstreamId", "redirectUri", "scopesHash"].some((name) => typeof dcrKey?.[name] !== "string")) return undefined;
  if (key !== undefined && (record.principal !== key.principal || record.upstreamId !== key.upstreamId)) return undefined;
  return parsed as UpstreamTokenRecord;
}
