import { describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { freePort } from "../support/redis-server.js";

describe("connecting to Redis", () => {
  it("gives up after the start-up timeout and says why", async () => {
    const connecting = connectRedis({ url: `redis://127.0.0.1:${await freePort()}`, commandTimeoutMs: 500 }, 1_000);
    await expect(connecting).rejects.toBeInstanceOf(UnavailableError);
    await expect(connecting).rejects.toThrow(/within 1000 ms: connect ECONNREFUSED/);
  });
});
