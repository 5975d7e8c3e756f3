import http from "node:http";
import net from "node:net";
import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { generateSecret } from "../../src/credentials/opaque-token.js";
import { bearer, createClients } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const PAUSE_MS = 1500;

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
    const minted = await clients.admin.mintToken({ scopes: ["orders:read"], name: "in-flight" }, bearer(rootToken));

    // Redis holds every command for a while, so the calls below are surely in flight at SIGTERM.
    const control = new Redis(redis.url);
    await control.call("CLIENT", "PAUSE", String(PAUSE_MS), "ALL");
    control.disconnect();
    const calls = Array.from({ length: 20 }, async () => {
      const response = await clients.authorization.authorize({
        authorization: `Bearer ${minted.token}`,
        resource: "GET /api/orders",
        requiredScope: "orders:read",
      });
      return { decision: response.decision, answeredAt: Date.now() };
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const sigtermAt = Date.now();
    const exitCode = server.stop();

    const answers = await Promise.all(calls);
    expect(answers.map((answer) => answer.decision)).toEqual(Array(20).fill(Decision.ALLOW));
    expect(answers.every((answer) => answer.answeredAt > sigtermAt)).toBe(true);
    expect(await exitCode).toBe(0);
    expect(server.output()).toContain("shutting down");
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
});
