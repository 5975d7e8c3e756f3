import { Code } from "@connectrpc/connect";
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A Redis of this test's own, so that stopping it disturbs nobody else. */
async function startOwnRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Ready to accept connections")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
  });
  return child;
}

async function stopOwnRedis(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
}

describe("a server whose Redis goes away", () => {
  let redis: ChildProcess;
  let server: PortcullisProcess;

  beforeAll(async () => {
    const port = await freePort();
    redis = await startOwnRedis(port);
    server = await startPortcullisProcess({
      env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG, REDIS_URL: `redis://127.0.0.1:${port}`, PORTCULLIS_REDIS_TIMEOUT_MS: "500" },
    });
  });
  afterAll(async () => {
    await server?.stop();
    if (redis) await stopOwnRedis(redis);
  });

  it("answers Unavailable instead of a decision, fails /readyz, and still serves public resources", async () => {
    const clients = createClients(server.url);
    const root = await server.rootToken();
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"] }, bearer(root));
    const request = { authorization: `Bearer ${minted.token}`, resource: "GET /api/kafka/topics" };
    expect((await clients.authorization.authorize(request)).decision).toBe(Decision.ALLOW);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);

    await stopOwnRedis(redis);

    const error = await rejectionOf(clients.authorization.authorize(request));
    expect(error.code).toBe(Code.Unavailable);
    expect(error.rawMessage).not.toContain(minted.token);
    expect((await rejectionOf(clients.admin.mintToken({ scopes: ["a"] }, bearer(root)))).code).toBe(Code.Unavailable);
    expect((await rejectionOf(clients.authorization.resolveLibraries({ authorization: minted.token }))).code).toBe(
      Code.Unavailable,
    );
    const readiness = await fetch(`${server.url}/readyz`);
    expect([readiness.status, await readiness.json()]).toEqual([503, { status: "unavailable" }]);
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const publicDecision = await clients.authorization.authorize({ authorization: "", resource: "GET /health" });
    expect(publicDecision.decision).toBe(Decision.ALLOW);
    expect(server.output()).not.toContain(minted.token);
  });

  it("counts the outage in /metrics by backend and warns about each decision it prevented", async () => {
    await stopOwnRedis(redis);
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
