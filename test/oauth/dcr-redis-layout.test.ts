import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DcrKeySchema, type DcrKey } from "../../gen/portcullis/v1/dcr_pb.js";
import { bearer, rejectionOf, createClients, type Clients } from "../support/clients.js";
import { nowSeconds } from "../support/dcr-fixtures.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { startReplicas, type Replicas } from "../support/replicas.js";

// The prefix of the interoperability example, exactly; on a Redis of this file's own, so no other run shares its keys.
const PREFIX = "test:auth:";
const HASH = "e06d77376803ad66ce2f60db77f612061837ca694e408c52e9896012e07dd930";
const EXAMPLE_REDIS_KEY = `test:auth:dcr:23:https://thv.example.com:23:https://idp.example.com:38:https://thv.example.com/oauth/callback:${HASH}`;

const key = (overrides: Partial<{ issuer: string; upstreamId: string; redirectUri: string }> = {}): DcrKey =>
  create(DcrKeySchema, {
    issuer: "https://thv.example.com",
    upstreamId: "https://idp.example.com",
    redirectUri: "https://thv.example.com/oauth/callback",
    scopeSet: { case: "scopes", value: { values: ["profile", "openid"] } },
    ...overrides,
  });

const resolution = {
  clientId: "client-123",
  clientSecret: "s3cret-client-value",
  authorizationEndpoint: "https://idp.example.com/authorize",
  tokenEndpoint: "https://idp.example.com/token",
  registrationAccessToken: "reg-access-token-value",
  registrationClientUri: "https://idp.example.com/register/client-123",
  tokenEndpointAuthMethod: "client_secret_basic",
  providerName: "example-idp",
  createdAt: 1_700_000_000n,
};

describe("DCR entries written through Portcullis on Redis", () => {
  let redis: OwnRedis;
  let replicas: Replicas;
  let clients: Clients;
  let raw: Redis;
  let auth: ReturnType<typeof bearer>;

  beforeAll(async () => {
    redis = await startOwnRedis();
    replicas = await startReplicas(1, { REDIS_URL: redis.url, PORTCULLIS_DCR_REDIS_PREFIX: PREFIX });
    clients = createClients(replicas.servers[0]!.url);
    auth = bearer(replicas.rootToken);
    raw = new Redis(redis.url);
  });
  afterAll(async () => {
    raw?.disconnect();
    await replicas?.stop();
    await redis?.dispose();
  });

  it("land under ToolHive's key with ToolHive's JSON, byte for byte", async () => {
    await clients.dcr.putDcrResolution({ key: key(), resolution }, auth);
    expect(await raw.get(EXAMPLE_REDIS_KEY)).toBe(
      JSON.stringify({
        key_issuer: "https://thv.example.com",
        key_upstream_id: "https://idp.example.com",
        key_redirect_uri: "https://thv.example.com/oauth/callback",
        key_scopes_hash: HASH,
        provider_name: "example-idp",
        client_id: "client-123",
        client_secret: "s3cret-client-value",
        token_endpoint_auth_method: "client_secret_basic",
        registration_access_token: "reg-access-token-value",
        registration_client_uri: "https://idp.example.com/register/client-123",
        authorization_endpoint: "https://idp.example.com/authorize",
        token_endpoint: "https://idp.example.com/token",
        created_at: 1_700_000_000,
        client_secret_expires_at: 0,
      }),
    );
    expect(await raw.pttl(EXAMPLE_REDIS_KEY)).toBe(-1);
  });

  it("leave empty optional fields out, as ToolHive does", async () => {
    const publicKey = key({ upstreamId: "public" });
    await clients.dcr.putDcrResolution(
      { key: publicKey, resolution: { clientId: "pub", authorizationEndpoint: "https://a.example/x", tokenEndpoint: "https://a.example/t", createdAt: 1n } },
      auth,
    );
    const stored = await raw.get(`test:auth:dcr:23:https://thv.example.com:6:public:38:https://thv.example.com/oauth/callback:${HASH}`);
    expect(stored).toBe(
      `{"key_issuer":"https://thv.example.com","key_upstream_id":"public","key_redirect_uri":"https://thv.example.com/oauth/callback",` +
        `"key_scopes_hash":"${HASH}","client_id":"pub","authorization_endpoint":"https://a.example/x","token_endpoint":"https://a.example/t",` +
        `"created_at":1,"client_secret_expires_at":0}`,
    );
  });

  it("count UTF-8 bytes, not characters, in the key's length prefixes", async () => {
    const redirectUri = "https://thv.example.com/rückruf/ü"; // 33 characters, 35 bytes
    await clients.dcr.putDcrResolution({ key: key({ upstreamId: "utf8", redirectUri }), resolution }, auth);
    expect(await raw.exists(`test:auth:dcr:23:https://thv.example.com:4:utf8:35:${redirectUri}:${HASH}`)).toBe(1);
  });

  it("are read back by Portcullis when ToolHive wrote them", async () => {
    const expires = nowSeconds() + 3600;
    const toolhiveKey = `test:auth:dcr:23:https://thv.example.com:10:written-by:38:https://thv.example.com/oauth/callback:${HASH}`;
    await raw.set(
      toolhiveKey,
      JSON.stringify({
        key_issuer: "https://thv.example.com",
        key_upstream_id: "written-by",
        key_redirect_uri: "https://thv.example.com/oauth/callback",
        key_scopes_hash: HASH,
        client_id: "thv-client",
        client_secret: "thv-secret",
        authorization_endpoint: "https://idp.example.com/authorize",
        token_endpoint: "https://idp.example.com/token",
        created_at: nowSeconds(),
        client_secret_expires_at: expires,
      }),
      "EX",
      3600,
    );
    const { entry } = await clients.dcr.getDcrResolution({ key: key({ upstreamId: "written-by" }) }, auth);
    expect(entry?.resolution).toMatchObject({ clientId: "thv-client", clientSecret: "thv-secret", clientSecretExpiresAt: BigInt(expires) });
    const listed = await clients.dcr.listDcrResolutions({ issuer: "https://thv.example.com" }, auth);
    const fromToolhive = listed.entries.find((listedEntry) => listedEntry.key?.upstreamId === "written-by");
    expect([fromToolhive?.resolution?.clientSecret, fromToolhive?.hasClientSecret]).toEqual(["", true]);
  });

  it("get a TTL matching the secret's expiry, and one second when it already expired", async () => {
    const futureKey = key({ upstreamId: "future" });
    await clients.dcr.putDcrResolution({ key: futureKey, resolution: { ...resolution, clientSecretExpiresAt: BigInt(nowSeconds() + 600) } }, auth);
    const futureTtl = await raw.pttl(`test:auth:dcr:23:https://thv.example.com:6:future:38:https://thv.example.com/oauth/callback:${HASH}`);
    expect(futureTtl).toBeGreaterThan(590_000);
    expect(futureTtl).toBeLessThanOrEqual(600_000);

    const pastKey = key({ upstreamId: "past" });
    await clients.dcr.putDcrResolution({ key: pastKey, resolution: { ...resolution, clientSecretExpiresAt: BigInt(nowSeconds() - 5) } }, auth);
    const pastTtl = await raw.pttl(`test:auth:dcr:23:https://thv.example.com:4:past:38:https://thv.example.com/oauth/callback:${HASH}`);
    expect(pastTtl).toBeGreaterThan(0);
    expect(pastTtl).toBeLessThanOrEqual(1000);
    expect((await rejectionOf(clients.dcr.getDcrResolution({ key: pastKey }, auth))).code).toBe(Code.NotFound);
  });

  it("name the offending field when a put is invalid, and write nothing", async () => {
    const invalidKey = key({ upstreamId: "invalid" });
    const failure = await rejectionOf(clients.dcr.putDcrResolution({ key: invalidKey, resolution: { ...resolution, tokenEndpoint: "" } }, auth));
    expect([failure.code, failure.rawMessage]).toEqual([Code.InvalidArgument, "resolution.token_endpoint: is required"]);
    expect(await raw.exists(`test:auth:dcr:23:https://thv.example.com:7:invalid:38:https://thv.example.com/oauth/callback:${HASH}`)).toBe(0);
  });

  it("need dcr:read to read and dcr:write to write", async () => {
    const scopedKey = key({ upstreamId: "scoped" });
    const reader = await clients.admin.mintToken({ scopes: ["dcr:read"], name: "dcr reader" }, auth);
    const writer = await clients.admin.mintToken({ scopes: ["dcr:write"], name: "dcr writer" }, auth);
    await expect(clients.dcr.putDcrResolution({ key: scopedKey, resolution }, bearer(writer.token))).resolves.toBeDefined();
    await expect(clients.dcr.getDcrResolution({ key: scopedKey }, bearer(reader.token))).resolves.toBeDefined();
    const denied = await rejectionOf(clients.dcr.putDcrResolution({ key: scopedKey, resolution }, bearer(reader.token)));
    expect(denied.code).toBe(Code.PermissionDenied);
    const anonymous = await rejectionOf(clients.dcr.getDcrResolution({ key: scopedKey }));
    expect(anonymous.code).toBe(Code.Unauthenticated);
  });

  it("never put a secret into the server's output", () => {
    const output = replicas.servers[0]!.output();
    for (const secret of ["s3cret-client-value", "reg-access-token-value", "thv-secret", replicas.rootToken]) {
      expect(output).not.toContain(secret);
    }
  });
});
