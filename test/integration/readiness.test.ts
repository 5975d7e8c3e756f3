import { Code, ConnectError } from "@connectrpc/connect";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { bearer, createClients, decide } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

async function statusOf(url: string): Promise<number> {
  return (await fetch(url)).status;
}

/** The wire code of a call that must fail, or "answered" if it did not. */
async function failureCode(call: Promise<unknown>): Promise<Code | "answered"> {
  try {
    await call;
    return "answered";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

describe("a server whose Redis goes away and comes back", () => {
  const rootToken = generateSecret();
  let redis: OwnRedis;
  let server: PortcullisProcess;

  beforeEach(async () => {
    redis = await startOwnRedis();
    server = await startPortcullisProcess({
      env: { REDIS_URL: redis.url, PORTCULLIS_ROOT_TOKENS: rootToken, PORTCULLIS_REDIS_TIMEOUT_MS: "500" },
    });
  });
  afterEach(async () => {
    await server?.stop();
    await redis?.dispose();
  });

  it("is ready with Redis, unavailable without it, and recovers without a restart", async () => {
    const clients = createClients(server.url);
    const minted = await clients.admin.mintToken({ scopes: ["orders:read"], name: "outage" }, bearer(rootToken));
    expect(await statusOf(`${server.url}/readyz`)).toBe(200);

    await redis.stop();
    expect(await statusOf(`${server.url}/readyz`)).toBe(503);
    expect(await statusOf(`${server.url}/healthz`)).toBe(200);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () =>
        failureCode(clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "GET /x", requiredScope: "orders:read" })),
      ),
    );
    expect(outcomes).toEqual(Array(10).fill(Code.Unavailable));
    expect(await failureCode(clients.admin.mintToken({ scopes: ["orders:read"], name: "refused" }, bearer(rootToken)))).toBe(
      Code.Unavailable,
    );

    await redis.start();
    await eventually(async () => (await statusOf(`${server.url}/readyz`)) === 200, 15_000);
    expect(await decide(clients, minted.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    // The restarted Redis has lost the cached Lua scripts; writes must still work.
    const after = await clients.admin.mintToken({ scopes: ["orders:read"], name: "after-outage" }, bearer(rootToken));
    expect(await decide(clients, after.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect(server.output()).not.toContain(minted.token);
  });

  it("answers Unavailable instead of waiting on a Redis that stopped answering, and recovers", async () => {
    const clients = createClients(server.url);
    const minted = await clients.admin.mintToken({ scopes: ["orders:read"], name: "hang" }, bearer(rootToken));

    redis.freeze();
    try {
      expect(await statusOf(`${server.url}/readyz`)).toBe(503);
      expect(
        await failureCode(
          clients.authorization.authorize({ authorization: `Bearer ${minted.token}`, resource: "GET /x", requiredScope: "orders:read" }),
        ),
      ).toBe(Code.Unavailable);
    } finally {
      redis.thaw();
    }
    await eventually(async () => (await statusOf(`${server.url}/readyz`)) === 200, 15_000);
    expect(await decide(clients, minted.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
  });
});
