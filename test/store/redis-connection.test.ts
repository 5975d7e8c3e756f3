import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import { connectRedis, redisCall } from "../../src/store/redis/redis-connection.js";
import { TEST_REDIS_URL } from "../support/redis.js";
import { freePort } from "../support/redis-server.js";

describe("connecting to Redis", () => {
  it("gives up after the start-up timeout and says why", async () => {
    const connecting = connectRedis({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 500 }, 1_000);
    await expect(connecting).rejects.toBeInstanceOf(UnavailableError);
    await expect(connecting).rejects.toThrow(/within 1000 ms: connect ECONNREFUSED/);
  });
});

describe("a failed Redis call", () => {
  it("tells the log what failed, the caller only that Redis is unavailable, and keeps neither the arguments nor the ioredis error", async () => {
    const client = await connectRedis({ url: TEST_REDIS_URL, commandTimeoutMs: 2000 }, 5_000);
    const marker = "secret-argument-LEAK-MARKER-93d1";
    try {
      // Redis quotes the arguments of an unknown command in its error reply.
      const failure = await redisCall(() => client.call("PORTCULLIS-NO-SUCH-COMMAND", marker)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failure).toBeInstanceOf(UnavailableError);
      const error = failure as UnavailableError;
      // The caller learns only that Redis is unavailable; the log learns why.
      expect(error.message).toBe("redis unavailable");
      expect(error.detail).toMatch(/^ReplyError: ERR unknown command 'PORTCULLIS-NO-SUCH-COMMAND'/);
      expect(error.detail).not.toContain(marker);
      expect(error.cause).toBeUndefined();
      expect(JSON.stringify(error, Object.getOwnPropertyNames(error))).not.toContain(marker);
    } finally {
      client.disconnect();
    }
  });
});
