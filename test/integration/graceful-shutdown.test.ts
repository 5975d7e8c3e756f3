import http from "node:http";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import net from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { DEFAULT_REDIS_PREFIX, redisKeys } from "../../src/store/redis/redis-keys.js";
import { DcrKeySchema } from "../../gen/portcullis/v1/dcr_pb.js";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const PAUSE_MS = 2000;

describe("shutting a server down with SIGTERM", () => {
  let redis: OwnRedis | undefined;
  let server: PortcullisProcess | undefined;
  afterEach(async () => {
    await server?.stop();
    await redis?.dispose();
    server = redis = undefined;
  });

  it("finishes the calls in flight, then exits 0", async () => {
    const rootToken = generateSecret();
    redis = await startOwnRedis();
    server = await startPortcullisProcess({
      env: { REDIS_URL: redis.url, PORTCULLIS_ROOT_TOKENS: rootToken, PORTCULLIS_REDIS_TIMEOUT_MS: "10000" },
    });
    const clients = createClients(server.url);
    const control = new Redis(redis.url);
    try {
      // Redis holds every write for a while, so the mints below are surely in flight at SIGTERM.
      await control.call("CLIENT", "PAUSE", String(PAUSE_MS), "WRITE");
      const mints = Array.from({ length: 20 }, async (_, index) => {
        const response = await clients.admin.mintToken({ scopes: ["orders:read"], name: `in-flight-${index}` }, bearer(rootToken));
        return { tokenId: response.record!.tokenId, answeredAt: Date.now() };
      });
      await eventually(async () => /blocked_clients:[1-9]/.test(await control.info("clients")), PAUSE_MS);
      const sigtermAt = Date.now();
      const exitCode = server.stop();

      const answers = await Promise.all(mints);
      expect(answers.every((answer) => answer.answeredAt > sigtermAt)).toBe(true);
      expect(await exitCode).toBe(0);
      expect(server.output()).toContain("shutting down");
      const keys = redisKeys(DEFAULT_REDIS_PREFIX);
      const stored = (await control.keys(keys.tokenPattern)).map((key) => keys.tokenId(key));
      expect(stored.sort()).toEqual(answers.map((answer) => answer.tokenId).sort());
    } finally {
      control.disconnect();
    }
  });

  it("does not wait out the grace period for idle or silent connections", async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_SHUTDOWN_GRACE_MS: "600000" } });
    const { hostname, port } = new URL(server.url);
    const clients = createClients(server.url);
    await clients.authorization.authorize({ authorization: "", resource: "GET /x", requiredScope: "x" });
    const agent = new http.Agent({ keepAlive: true });
    const idleHttp1 = await new Promise<net.Socket>((resolve, reject) => {
      const request = http.get(`${server!.url}/healthz`, { agent }, (response) => {
        response.resume();
        response.once("end", () => resolve(request.socket!));
      });
      request.once("error", reject);
    });
    const silent = net.connect(Number(port), hostname);
    await new Promise((resolve) => silent.once("connect", resolve));
    const closedByServer = [idleHttp1, silent].map((socket) => new Promise((resolve) => socket.once("close", resolve)));

    const stoppingAt = Date.now();
    expect(await server.stop()).toBe(0);
    // Left alone, Node drops an idle keep-alive connection after 5 s and the
    // listener a silent one after 10 s: exiting sooner shows shutdown closed them.
    expect(Date.now() - stoppingAt).toBeLessThan(4_000);
    await Promise.all(closedByServer);
    agent.destroy();
  });

  it("ends a DCR wait in flight at once with Unavailable instead of holding the grace period, then exits 0", async () => {
    const rootToken = generateSecret();
    const graceMs = 60_000;
    server = await startPortcullisProcess({ env: { PORTCULLIS_ROOT_TOKENS: rootToken, PORTCULLIS_SHUTDOWN_GRACE_MS: String(graceMs) } });
    const clients = createClients(server.url);
    const root = bearer(rootToken);
    const key = create(DcrKeySchema, {
      issuer: "https://thv.example.com",
      upstreamId: "https://idp.example.com",
      redirectUri: "https://thv.example.com/oauth/callback",
      scopeSet: { case: "scopes", value: { values: ["openid"] } },
    });
    // Another caller holds the lease and never writes, so the wait below would last its whole timeout.
    const { result } = await clients.dcr.acquireRegistration({ key, ttl: { seconds: 300n } }, root);
    expect(result.case).toBe("lease");
    const waiting = rejectionOf(clients.dcr.awaitResolution({ key, timeout: { seconds: 50n } }, root));
    // The wait is under way once its caller was decided on (the second DCR caller decision logged).
    await eventually(async () => server!.output().split('"transport":"dcr"').length > 2, 10_000);

    const stoppingAt = Date.now();
    const exitCode = server.stop();
    const refusal = await waiting;
    const answeredAfterMs = Date.now() - stoppingAt;

    expect(refusal.code).toBe(Code.Unavailable);
    expect(refusal.rawMessage).toBe("Portcullis is shutting down; ask again");
    expect(await exitCode).toBe(0);
    // Generous bounds: the wait asked for 50 s and the grace period is 60 s; ending at once takes well under a second.
    expect(answeredAfterMs).toBeLessThan(10_000);
    expect(Date.now() - stoppingAt).toBeLessThan(graceMs / 2);
  });

  it("exits soon after SIGTERM when nothing is in flight", async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_SHUTDOWN_GRACE_MS: "60000" } });
    const clients = createClients(server.url);
    await clients.authorization.authorize({ authorization: "", resource: "GET /x", requiredScope: "x" });
    const stoppingAt = Date.now();
    expect(await server.stop()).toBe(0);
    const exitedAfterMs = Date.now() - stoppingAt;
    // Typically well under a second; the bound only proves the 60 s grace period was not waited out.
    expect(exitedAfterMs).toBeLessThan(10_000);
  });
});
