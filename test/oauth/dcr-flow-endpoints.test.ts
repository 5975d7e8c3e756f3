import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DcrKeySchema, type DcrKey } from "../../gen/portcullis/v1/dcr_pb.js";
import { canonicalDcrKey } from "../../src/oauth/dcr-key-input.js";
import { redisKeys } from "../../src/store/redis/redis-keys.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { nowSeconds } from "../support/dcr-fixtures.js";
import { startReplicas, type Replicas } from "../support/replicas.js";
import { TEST_REDIS_URL } from "../support/redis.js";

const ISSUER = "https://thv.example.com";
const REDIRECT_URI = "https://thv.example.com/oauth/callback";
const SCOPES_HASH = "e06d77376803ad66ce2f60db77f612061837ca694e408c52e9896012e07dd930";

describe("the endpoints of a DCR resolution, where a flow will send the code and the client secret", () => {
  let replicas: Replicas;
  let clients: Clients;
  let raw: Redis;
  let auth: ReturnType<typeof bearer>;

  beforeAll(async () => {
    replicas = await startReplicas(1);
    clients = createClients(replicas.servers[0]!.url);
    auth = bearer(replicas.rootToken);
    raw = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    raw?.disconnect();
    await replicas?.stop();
  });

  const dcrKey = (upstreamId: string): DcrKey =>
    create(DcrKeySchema, { issuer: ISSUER, upstreamId, redirectUri: REDIRECT_URI, scopeSet: { case: "scopesHash", value: SCOPES_HASH } });

  /** Writes an entry as ToolHive does, straight into the shared Redis, past Portcullis's checks on Put. */
  const writtenByToolhive = async (upstreamId: string, endpoints: { authorization_endpoint?: string; token_endpoint?: string }) => {
    const key = canonicalDcrKey({ issuer: ISSUER, upstreamId, redirectUri: REDIRECT_URI, scopesHash: SCOPES_HASH });
    const entry = {
      key_issuer: ISSUER,
      key_upstream_id: upstreamId,
      key_redirect_uri: REDIRECT_URI,
      key_scopes_hash: SCOPES_HASH,
      client_id: "thv-client",
      client_secret: "thv-secret-value",
      ...endpoints,
      created_at: nowSeconds(),
      client_secret_expires_at: 0,
    };
    await raw.set(redisKeys(replicas.prefix, `${replicas.prefix}dcr-ns:`).dcr(key), JSON.stringify(entry));
    return dcrKey(upstreamId);
  };

  const start = (key: DcrKey) =>
    clients.oauthFlow.startAuthorization({ upstreamIssuer: "", clientSource: { case: "dcrKey", value: key }, scopes: ["read"] }, auth);

  it.each([
    ["resolution.token_endpoint", { tokenEndpoint: "http://idp.example.com/token" }],
    ["resolution.authorization_endpoint", { authorizationEndpoint: "http://10.0.0.7/authorize" }],
    ["resolution.token_endpoint", { tokenEndpoint: "https://user:password@idp.example.com/token" }],
  ])("refuses a put whose %s is not https (nor http to a loopback address)", async (field, endpoints) => {
    const resolution = {
      clientId: "c",
      authorizationEndpoint: "https://idp.example.com/authorize",
      tokenEndpoint: "https://idp.example.com/token",
      ...endpoints,
    };
    const refused = await rejectionOf(clients.dcr.putDcrResolution({ key: dcrKey("put-plain-http"), resolution }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.InvalidArgument,
      `${field}: must be an https URL (http only to a loopback address) without credentials or fragment`,
    ]);
    expect(refused.rawMessage).not.toContain("password");
  });

  it("accepts endpoints over plain http to a loopback address", async () => {
    const resolution = { clientId: "c", authorizationEndpoint: "http://127.0.0.1:9/authorize", tokenEndpoint: "http://localhost:9/token" };
    await expect(clients.dcr.putDcrResolution({ key: dcrKey("loopback"), resolution }, auth)).resolves.toBeDefined();
    expect(new URL((await start(dcrKey("loopback"))).authorizationUrl).origin).toBe("http://127.0.0.1:9");
  });

  it.each([
    ["authorization_endpoint", { token_endpoint: "https://idp.example.com/token" }],
    ["token_endpoint", { authorization_endpoint: "https://idp.example.com/authorize" }],
  ])("refuses to start a flow on a stored entry without %s as FailedPrecondition", async (missing, endpoints) => {
    const refused = await rejectionOf(start(await writtenByToolhive(`without-${missing}`, endpoints)));
    expect([refused.code, refused.rawMessage]).toEqual([Code.FailedPrecondition, `dcr_incomplete: ${missing} missing`]);
  });

  it.each([
    ["token_endpoint", { authorization_endpoint: "https://idp.example.com/authorize", token_endpoint: "http://idp.example.com/token" }],
    ["authorization_endpoint", { authorization_endpoint: "http://idp.example.com/authorize", token_endpoint: "https://idp.example.com/token" }],
    ["authorization_endpoint", { authorization_endpoint: "not a url", token_endpoint: "https://idp.example.com/token" }],
  ])("refuses to start a flow on a stored entry whose %s is not https, without echoing it", async (field, endpoints) => {
    const refused = await rejectionOf(start(await writtenByToolhive(`unsafe-${field}-${endpoints.authorization_endpoint.length}`, endpoints)));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.FailedPrecondition,
      `dcr_unsafe_endpoint: ${field} must be an https URL (http only to a loopback address)`,
    ]);
  });

  it("never writes the stored client secret to the output", () => {
    expect(replicas.servers[0]!.output()).not.toContain("thv-secret-value");
  });
});
