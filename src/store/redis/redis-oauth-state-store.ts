import { randomBytes } from "node:crypto";
import { AlreadyExistsError } from "../../errors.js";
import type { OAuthFlowRecord } from "../../model/oauth-flow-record.js";
import type { OAuthStateLookup, OAuthStateStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import type { RedisKeys } from "./redis-keys.js";
import { RedisScript } from "./redis-script.js";

const scripts = {
  consumeOAuthState: new RedisScript("consume-oauth-state.lua"),
  restoreOAuthState: new RedisScript("restore-oauth-state.lua"),
};

/** What a consumed flow's value becomes: `consumed:<claim>`; no flow JSON starts so. */
const CONSUMED = "consumed";
const marker = (claim: string) => `${CONSUMED}:${claim}`;

export function redisOAuthStateStore(client: RedisClient, keys: RedisKeys): OAuthStateStore {
  return {
    async insert(stateId, record) {
      const ttlMs = Math.max(1, record.expiresAt - record.createdAt);
      const reply = await redisCall(() => client.set(keys.oauthState(stateId), JSON.stringify(record), "PX", ttlMs, "NX"));
      if (reply === null) throw new AlreadyExistsError("an OAuth flow with this state exists already");
    },
    async find(stateId, nowMs) {
      const value = await redisCall(() => client.get(keys.oauthState(stateId)));
      if (value === null) return { unknown: true };
      if (value.startsWith(CONSUMED)) return { used: true };
      return pending(value, nowMs);
    },
    async consume(stateId, nowMs) {
      const claim = randomBytes(16).toString("hex");
      const [kind, value] = (await redisCall(() =>
        scripts.consumeOAuthState.run(client, [keys.oauthState(stateId)], [marker(claim)]),
      )) as [string, string?];
      if (kind === "used") return { used: true };
      if (kind !== "flow" || value === undefined) return { unknown: true };
      const found = pending(value, nowMs);
      return "record" in found ? { record: found.record, claim } : found;
    },
    async restore(stateId, claim, record) {
      const reply = await redisCall(() =>
        scripts.restoreOAuthState.run(client, [keys.oauthState(stateId)], [marker(claim), JSON.stringify(record)]),
      );
      return reply === 1;
    },
  };
}

function pending(value: string, nowMs: number): OAuthStateLookup {
  const record = parsed(value);
  return record === undefined || record.expiresAt <= nowMs ? { unknown: true } : { record };
}

function parsed(value: string): OAuthFlowRecord | undefined {
  try {
    return JSON.parse(value) as OAuthFlowRecord;
  } catch {
    return undefined;
  }
}
