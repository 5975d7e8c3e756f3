import { AbortedError, AlreadyExistsError } from "../../errors.js";
import type { SigningKeyRecord, StoredSigningKey } from "../../model/signing-key.js";
import type { SigningKeyStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import { invalidationMessage } from "./redis-invalidations.js";
import type { RedisKeys } from "./redis-keys.js";
import { execAll, pairsToObject } from "./redis-replies.js";
import { RedisScript, type Durability } from "./redis-script.js";

const scripts = {
  create: new RedisScript("create-signing-key.lua"),
  retire: new RedisScript("retire-signing-key.lua"),
  reseal: new RedisScript("reseal-signing-key.lua"),
};

export function redisSigningKeyStore(client: RedisClient, keys: RedisKeys, durability: Durability): SigningKeyStore {
  /** Reads keys and the active pointer in one MULTI, so states are consistent. */
  async function read(kids: string[]): Promise<SigningKeyRecord[]> {
    if (kids.length === 0) return [];
    const batch = client.multi();
    for (const kid of kids) batch.hgetall(keys.signingKey(kid));
    batch.get(keys.activeSigningKey);
    const replies = await redisCall(() => execAll(batch));
    const activeKid = replies.pop() as string | null;
    return replies.flatMap((fields) => fromFields(fields as Record<string, string>, activeKid) ?? []);
  }
  return {
    async create(key) {
      const created = await redisCall(() =>
        scripts.create.runDurably(
          client,
          durability,
          [keys.signingKey(key.kid), keys.signingKeyIndex, keys.activeSigningKey],
          [key.kid, JSON.stringify(key), key.createdAt, keys.invalidations, invalidationMessage("signing_key", "")],
        ),
      );
      if (created !== 1) throw new AlreadyExistsError(`signing key ${key.kid} already exists`);
    },
    async get(kid) {
      return (await read([kid]))[0];
    },
    async list() {
      return read(await redisCall(() => client.zrange(keys.signingKeyIndex, 0, -1)));
    },
    async active() {
      const kid = await redisCall(() => client.get(keys.activeSigningKey));
      const key = kid === null ? undefined : (await read([kid]))[0];
      return key?.state === "active" ? key : undefined;
    },
    async retire(kid, at) {
      const reply = await redisCall(() => scripts.retire.runDurably(client, durability, [keys.signingKey(kid), keys.activeSigningKey], [
          kid,
          at,
          keys.invalidations,
          invalidationMessage("signing_key", kid),
        ]));
      return reply === null ? undefined : fromFields(pairsToObject(reply as string[]), null);
    },
    async resealSecret(kid, reseal) {
      const data = await redisCall(() => client.hget(keys.signingKey(kid), "data"));
      if (data === null) return false;
      const stored = JSON.parse(data) as StoredSigningKey;
      const secret = reseal(stored.secret);
      if (secret === undefined) return false;
      const replaced = await redisCall(() =>
        scripts.reseal.runDurably(
          client,
          durability,
          [keys.signingKey(kid)],
          [data, JSON.stringify({ ...stored, secret }), keys.invalidations, invalidationMessage("signing_key", kid)],
        ),
      );
      if (replaced !== 1) throw new AbortedError(`signing key ${kid} changed while it was re-sealed; nothing was written`);
      return true;
    },
  };
}

function fromFields(fields: Record<string, string>, activeKid: string | null): SigningKeyRecord | undefined {
  if (fields.data === undefined) return undefined;
  const key = JSON.parse(fields.data) as StoredSigningKey;
  if (fields.retired_at !== undefined) key.retiredAt = Number(fields.retired_at);
  const state = key.retiredAt !== undefined ? "retired" : key.kid === activeKid ? "active" : "verify_only";
  return { ...key, state };
}
