import { AbortedError, FailedPreconditionError } from "../../errors.js";
import type { DcrKey } from "../../model/dcr-key.js";
import type { DcrRecord } from "../../model/dcr-record.js";
import { dcrEvictionTtlMs } from "../dcr-expiry.js";
import { leaseLost } from "../dcr-store.js";
import type { DcrStore } from "../store.js";
import { decodeDcrJson, encodeDcrJson } from "./dcr-json.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { getEach, scanEveryMaster } from "./redis-scan.js";
import { RedisScript } from "./redis-script.js";

const scripts = {
  putDcr: new RedisScript("put-dcr.lua"),
  acquireDcrLease: new RedisScript("acquire-dcr-lease.lua"),
  resealString: new RedisScript("reseal-string.lua"),
};

/** DCR entries in ToolHive's layout (docs/oauth-client-state.md), plus registration leases. */
export function redisDcrStore(client: RedisClient, keys: RedisKeys): DcrStore {
  return {
    async get(key) {
      const value = await redisCall(() => client.get(keys.dcr(key)));
      return value === null ? undefined : decoded(value, key);
    },
    async put(record, nowMs, leaseId) {
      const outcome = await redisCall(() =>
        scripts.putDcr.run(
          client,
          [keys.dcr(record.key), keys.dcrLease(record.key)],
          [encodeDcrJson(record), dcrEvictionTtlMs(record, nowMs) ?? 0, leaseId ?? ""],
        ),
      );
      if (outcome === -1) throw leaseLost();
      return { leaseReleased: outcome === 1 };
    },
    async delete(key) {
      return (await redisCall(() => client.del(keys.dcr(key)))) === 1;
    },
    async list(issuer) {
      const records: DcrRecord[] = [];
      await redisCall(() =>
        scanEveryMaster(client, keys.dcrPattern(issuer), async (node, found) => {
          for (const value of await getEach(node, found)) {
            const record = value === null ? undefined : decodeDcrJson(value);
            if (record !== undefined) records.push(record);
          }
        }),
      );
      return records;
    },
    async acquire(key, leaseId, ttlMs, nowMs) {
      const reply = (await redisCall(() =>
        scripts.acquireDcrLease.run(client, [keys.dcr(key), keys.dcrLease(key)], [leaseId, ttlMs, nowMs]),
      )) as [string, string | number];
      const [kind, value] = reply;
      if (kind === "entry") return { record: decoded(String(value), key) };
      if (kind === "lease") return { lease: { leaseId, expiresAtMs: nowMs + ttlMs } };
      return { held: { expiresAtMs: nowMs + Number(value) } };
    },
    async leaseExpiry(key, nowMs) {
      const remaining = await redisCall(() => client.pttl(keys.dcrLease(key)));
      return remaining > 0 ? nowMs + remaining : undefined;
    },
    async reseal(key, reseal) {
      const value = await redisCall(() => client.get(keys.dcr(key)));
      const record = value === null ? undefined : decodeDcrJson(value);
      const next = record === undefined ? undefined : reseal(record);
      if (next === undefined) return false;
      const replaced = await redisCall(() => scripts.resealString.run(client, [keys.dcr(key)], [value!, encodeDcrJson(next)]));
      if (replaced !== 1) throw new AbortedError(`the DCR entry for upstream ${key.upstreamId} changed while it was re-sealed; nothing was written`);
      return true;
    },
  };
}

function decoded(value: string, key: DcrKey): DcrRecord {
  const record = decodeDcrJson(value);
  if (record === undefined) {
    throw new FailedPreconditionError(
      `dcr_unreadable: the stored entry for upstream ${key.upstreamId} is not a DCR resolution; delete it and register again`,
    );
  }
  return record;
}
