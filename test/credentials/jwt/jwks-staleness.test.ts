import { Code } from "@connectrpc/connect";
import { status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { createClients, rejectionOf, type Clients } from "../../support/clients.js";
import { createEnvoyClient, type EnvoyClient } from "../../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { generateTestKey, OidcProvider, type TestKey } from "../../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";

describe("an issuer whose key set is past its maximum staleness", () => {
  const idp = new OidcProvider("oidc");
  let key: TestKey;
  let server: InProcessPortcullis;
  let clients: Clients;
  let envoy: EnvoyClient;
  let token: string;
  /** Portcullis's clock; moved by the test, never by waiting. */
  let now = Date.now();

  beforeAll(async () => {
    key = await generateTestKey("ES256", "idp-1");
    await idp.start();
    idp.publish(key);
    const issuer = {
      issuer: idp.issuer,
      alias: "idp",
      audiences: [AUDIENCE],
      jwks_cache_ttl_s: 60,
      jwks_max_stale_s: 240,
      jwks_min_refresh_interval_s: 30,
    };
    server = await startInProcess({ PORTCULLIS_JWT_ISSUERS: JSON.stringify([issuer]) }, () => now);
    clients = createClients(server.url);
    envoy = createEnvoyClient(server.url);
    token = await idp.sign(key, { aud: AUDIENCE, scope: "kafka:read", exp: Math.floor(now / 1000) + 3600 });
  });

  afterAll(async () => {
    envoy?.close();
    await server?.stop();
    await idp.stop();
  });

  const authorize = () =>
    clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/kafka/topics", requiredScope: "kafka:read" });
  /** The gRPC status of a Check call: OK with a decision, or the status the call failed with. */
  async function checkStatus(): Promise<number | undefined> {
    const request = {
      method: "GET",
      path: "/api/kafka/topics",
      headers: { authorization: `Bearer ${token}` },
      contextExtensions: { required_scope: "kafka:read" },
    };
    try {
      return (await envoy.check(request)).status?.code;
    } catch (error) {
      return (error as { code: number }).code;
    }
  }

  it("answers Unavailable, never a decision, once no fetch has succeeded for that long, and recovers when one does", async () => {
    expect((await authorize()).decision).toBe(Decision.ALLOW);
    await idp.stop();

    now += 239_000;
    expect((await authorize()).decision).toBe(Decision.ALLOW);

    now += 2_000;
    expect((await rejectionOf(authorize())).code).toBe(Code.Unavailable);
    expect(await checkStatus()).toBe(GrpcStatus.UNAVAILABLE);
    expect(server.output()).toContain("longer than its maximum staleness");

    await idp.start();
    now += 30_000;
    expect((await authorize()).decision).toBe(Decision.ALLOW);
    expect(await checkStatus()).toBe(GrpcStatus.OK);
    expect(server.output()).toContain("JWKS fetched again");
  });
});
