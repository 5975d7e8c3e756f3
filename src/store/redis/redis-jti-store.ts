import type { JtiStore } from "../store.js";
import { redisCall, type RedisClient } from "./redis-connection.js";
import type { RedisKeys } from "./redis-keys.js";

/** One atomic command per claim: SET NX with an absolute expiry, GET answering an earlier record. */
export function redisJtiStore(client: RedisClient, keys: RedisKeys): JtiStore {
  return {
    async claim(id, value, retainUntil, now) {
      // PXAT takes whole milliseconds (`exp` may be fractional); a deadline
      // already past would make Redis drop the record at once, so keep it a moment.
      const until = Math.ceil(Math.max(retainUntil, now + 1000));
      const earlier = await redisCall(() => client.set(keys.jti(id), String(value), "PXAT", until, "NX", "GET"));
      return earlier === null ? { created: true, value } : { created: false, value: Number(earlier) };
    },
  };
}
