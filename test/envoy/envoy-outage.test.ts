import { Code } from "@connectrpc/connect";
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClients, rejectionOf } from "../support/clients.js";
import { createEnvoyClient, type EnvoyClient, type WireCheckResponse } from "../support/envoy-client.js";
import { mintTestTokens, startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";

const READER_REQUEST = (token: string) => ({ method: "GET", path: "/api/kafka/topics", headers: { authorization: `Bearer ${token}` } });

async function checkError(envoy: EnvoyClient, token: string): Promise<ServiceError | "answered"> {
  return envoy.check(READER_REQUEST(token)).then(
    () => "answered" as const,
    (error: ServiceError) => error,
  );
}

describe("Check while the store's Redis is away", () => {
  let redis: OwnRedis;
  let fixture: EnvoyFixture;
  let envoy: EnvoyClient;
  beforeAll(async () => {
    redis = await startOwnRedis();
    fixture = await startEnvoyFixture({ env: { REDIS_URL: redis.url, PORTCULLIS_REDIS_TIMEOUT_MS: "500" } });
    envoy = createEnvoyClient(fixture.server.url);
  });
  afterAll(async () => {
    envoy?.close();
    await fixture?.server.stop();
    await redis?.dispose();
  });

  it("fails the call with UNAVAILABLE, never answers OK, and recovers when Redis is back without a restart", async () => {
    expect((await envoy.check(READER_REQUEST(fixture.tokens.reader))).status?.code).toBe(0);

    await redis.stop();
    for (const token of [fixture.tokens.reader, fixture.tokens.writer, fixture.tokens.unknown, fixture.tokens.reader]) {
      const error = await checkError(envoy, token);
      expect(error).not.toBe("answered");
      expect((error as ServiceError).code).toBe(status.UNAVAILABLE);
    }
    const authorize = await rejectionOf(
      createClients(fixture.server.url).authorization.authorize({ authorization: `Bearer ${fixture.tokens.reader}`, resource: "GET /api/kafka/topics" }),
    );
    expect(authorize.code).toBe(Code.Unavailable);

    await redis.start();
    // This Redis keeps its data across the restart: the token that was refused during the outage passes again.
    const deadline = Date.now() + 20_000;
    let recovered: WireCheckResponse | undefined;
    while (recovered === undefined && Date.now() < deadline) {
      recovered = await envoy.check(READER_REQUEST(fixture.tokens.reader)).catch(() => undefined);
      if (recovered === undefined) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(recovered?.status?.code).toBe(0);

    const fresh = await mintTestTokens(fixture.server.url, fixture.tokens.root);
    expect((await envoy.check(READER_REQUEST(fresh.reader))).status?.code).toBe(0);
    expect(fixture.server.child.exitCode).toBeNull();
  });
});
