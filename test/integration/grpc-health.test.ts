import { Code, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { grpcJsUnary } from "../support/grpc-js-unary.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { Health, HealthCheckResponse_ServingStatus as Status } from "../../gen/grpc/health/v1/health_pb.js";

const PORTCULLIS_SERVICES = [
  "portcullis.v1.AuthorizationService",
  "portcullis.v1.TokenAdminService",
  "portcullis.v1.OwnerService",
  "portcullis.v1.DcrService",
  "portcullis.v1.OAuthFlowService",
  "envoy.service.auth.v3.Authorization",
];
/** Bounds every wait on the server (Redis reconnects back off up to a few seconds). */
const WAIT_MS = 15_000;

/** Statuses a Watch stream delivers, collected as they come; `ended` settles when the server closes the stream. */
function watch(health: Client<typeof Health>, service: string, signal: AbortSignal) {
  const statuses: Status[] = [];
  const ended = (async () => {
    for await (const answer of health.watch({ service }, { signal })) statuses.push(answer.status);
  })();
  // Before the test awaits it, a failure must not count as unhandled.
  ended.catch(() => {});
  return { statuses, ended };
}

describe("grpc.health.v1.Health on a server whose Redis goes away and comes back", () => {
  let redis: OwnRedis;
  let server: InProcessPortcullis;
  let health: Client<typeof Health>;
  let cancel: AbortController;

  beforeEach(async () => {
    cancel = new AbortController();
    redis = await startOwnRedis();
    server = await startInProcess({ REDIS_URL: redis.url, PORTCULLIS_REDIS_TIMEOUT_MS: "500" });
    health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
  });
  afterEach(async () => {
    cancel.abort();
    await server?.stop();
    await redis?.dispose();
  });

  const statusOf = async (service: string) => (await health.check({ service })).status;

  it("answers SERVING for the server and each of its services, NOT_SERVING while Redis is stopped, SERVING once it is back", async () => {
    for (const service of ["", ...PORTCULLIS_SERVICES]) expect(await statusOf(service)).toBe(Status.SERVING);

    await redis.stop();
    await eventually(async () => (await statusOf("")) === Status.NOT_SERVING, WAIT_MS);
    for (const service of PORTCULLIS_SERVICES) expect(await statusOf(service)).toBe(Status.NOT_SERVING);
    // The same answer as the readiness probe.
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);

    await redis.start();
    await eventually(async () => (await statusOf("")) === Status.SERVING, WAIT_MS);
    expect(await statusOf("portcullis.v1.AuthorizationService")).toBe(Status.SERVING);
  });

  it("answers a grpc-js client, as gRPC's own health probes ask", async () => {
    expect(await grpcJsUnary(server.url, Health.method.check, { service: "envoy.service.auth.v3.Authorization" })).toMatchObject({
      reply: { status: Status.SERVING },
    });
    expect(await grpcJsUnary(server.url, Health.method.check, { service: "no.such.Service" })).toMatchObject({
      code: grpc.status.NOT_FOUND,
    });
  });

  it("streams SERVING, NOT_SERVING, SERVING to a Watch as Redis stops and comes back", async () => {
    const watched = watch(health, "portcullis.v1.AuthorizationService", cancel.signal);
    await eventually(async () => watched.statuses.length === 1, WAIT_MS);
    expect(watched.statuses).toEqual([Status.SERVING]);

    await redis.stop();
    await eventually(async () => watched.statuses.length === 2, WAIT_MS);
    await redis.start();
    await eventually(async () => watched.statuses.length === 3, WAIT_MS);
    expect(watched.statuses).toEqual([Status.SERVING, Status.NOT_SERVING, Status.SERVING]);
  });

  it("answers NOT_FOUND to Check and SERVICE_UNKNOWN to Watch for a service it does not serve", async () => {
    expect((await rejectionOf(health.check({ service: "portcullis.v1.NoSuchService" }))).code).toBe(Code.NotFound);
    const watched = watch(health, "portcullis.v1.NoSuchService", cancel.signal);
    await eventually(async () => watched.statuses.length === 1, WAIT_MS);
    expect(watched.statuses).toEqual([Status.SERVICE_UNKNOWN]);
  });
});

describe("grpc.health.v1.Health while the server stops", () => {
  it("sends NOT_SERVING to every Watch and ends the streams, so they do not hold the shutdown grace period", async () => {
    // A grace period longer than the test's timeout: a Watch holding it would fail the test.
    const server = await startInProcess({ PORTCULLIS_SHUTDOWN_GRACE_MS: "600000" });
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const cancel = new AbortController();
    try {
      const watches = [watch(health, "", cancel.signal), watch(health, "portcullis.v1.DcrService", cancel.signal)];
      const unknown = watch(health, "portcullis.v1.NoSuchService", cancel.signal);
      await eventually(async () => [...watches, unknown].every((watched) => watched.statuses.length === 1), WAIT_MS);

      await server.stop();
      for (const watched of watches) {
        await watched.ended;
        expect(watched.statuses).toEqual([Status.SERVING, Status.NOT_SERVING]);
      }
      await unknown.ended;
      expect(unknown.statuses).toEqual([Status.SERVICE_UNKNOWN]);
    } finally {
      cancel.abort();
    }
  });
});
