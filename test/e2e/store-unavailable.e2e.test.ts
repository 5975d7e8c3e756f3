import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

describe("a server whose Redis goes away", () => {
  let redis: OwnRedis;
  let server: PortcullisProcess;

  beforeAll(async () => {
    redis = await startOwnRedis();
    server = await startPortcullisProcess({
      env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG, REDIS_URL: redis.url, PORTCULLIS_REDIS_TIMEOUT_MS: "500" },
    });
  });
  afterAll(async () => {
    await server?.stop();
    await redis?.dispose();
  });

  it("answers Unavailable instead of a decision, fails /readyz, and still serves public resources", async () => {
    const clients = createClients(server.url);
    const root = await server.rootToken();
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"] }, bearer(root));
    const request = { authorization: `Bearer ${minted.token}`, resource: "GET /api/kafka/topics" };
    expect((await clients.authorization.authorize(request)).decision).toBe(Decision.ALLOW);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    await redis.stop();

    const error = await rejectionOf(clients.authorization.authorize(request));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).not.toContain(minted.token);
    expect((await rejectionOf(clients.admin.mintToken({ scopes: ["a"] }, bearer(root)))).code).toBe(Code.Unavailable);
    expect((await rejectionOf(clients.authorization.resolveLibraries({ authorization: minted.token }))).code).toBe(
      Code.Unavailable,
    );
    const readiness = await fetch(`${server.url}/readyz`);
    expect([readiness.status, await readiness.json()]).toEqual([503, { status: "unavailable", config: expect.any(String) }]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const publicDecision = await clients.authorization.authorize({ authorization: "", resource: "GET /health" });
    expect(publicDecision.decision).toBe(Decision.ALLOW);
    expect(server.output()).not.toContain(minted.token);
  });

  it("counts the outage in /metrics by backend and warns about each decision it prevented", async () => {
    await redis.stop();
    const request = { authorization: "Bearer pcl_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", resource: "GET /api/kafka/topics" };
    expect((await rejectionOf(createClients(server.url).authorization.authorize(request))).code).toBe(Code.Unavailable);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    const samples = parseSamples(await (await fetch(`${server.url}/metrics`)).text());
    const storeErrors = (operation: string) =>
      sampleValue(samples, "portcullis_store_errors_total", { backend: "redis", operation, kind: "unavailable" }) ?? 0;
    expect(storeErrors("tokens.get")).toBeGreaterThanOrEqual(1);
    expect(storeErrors("ping")).toBeGreaterThanOrEqual(1);
    const unavailable = sampleValue(samples, "portcullis_decision_duration_seconds_count", {
      transport: "authorize",
      outcome: "unavailable",
    });
    expect(unavailable).toBeGreaterThanOrEqual(1);
    const warnings = server
      .output()
      .split("\n")
      .filter((line) => line.includes('"outcome":"unavailable"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.transport === "authorize");
    expect(warnings.length).toBe(unavailable);
    expect(warnings[0]).toMatchObject({ level: 40, resource: "GET /api/kafka/topics" });
  });
});
