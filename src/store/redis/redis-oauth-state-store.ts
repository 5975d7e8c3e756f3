import type { Redis } from "ioredis";
import { AlreadyExistsError } from "../../errors.js";
import type { OAuthFlowRecord, OAuthStateStore } from "../store.js";
import { redisCall } from "./redis-connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { RedisScript } from "./redis-script.js";

const scripts = { consumeOAuthState: new RedisScript("consume-oauth-state.lua") };

/** What a consumed flow's value becomes; no flow JSON can equal it. */
const CONSUMED = "consumed";

export function redisOAuthStateStore(client: Redis, keys: RedisKeys): OAuthStateStore {
  return {
    async insert(stateId, record) {
      const ttlMs = Math.max(1, record.expiresAt - record.createdAt);
      const reply = await redisCall(() => client.set(keys.oauthState(stateId), JSON.stringify(record), "PX", ttlMs, "NX"));
      if (reply === null) throw new AlreadyExistsError("an OAuth flow with this state exists already");
    },
    async consume(stateId, nowMs) {
      const [kind, value] = (await redisCall(() =>
        scripts.consumeOAuthState.run(client, [keys.oauthState(stateId)], [CONSUMED]),
      )) as [string, string?];
      if (kind === "used") return { used: true };
      if (kind !== "flow" || value === undefined) return { unknown: true };
      const record = parsed(value);
      return record === undefined || record.expiresAt <= nowMs ? { unknown: true } : { record };
    },
  };
}

function parsed(value: string): OAuthFlowRecord | undefined {
  try {
    return JSON.parse(value) as OAuthFlowRecord;
  } catch {
    return undefined;
  }
}
