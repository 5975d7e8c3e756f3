import { randomBytes } from "node:crypto";
import http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { scanEveryMaster } from "../../src/store/redis/redis-scan.js";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { createEnvoyClient, headerNamed, upstreamHeaders, type EnvoyClient, type WireCheckResponse } from "../support/envoy-client.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { TEST_TOPOLOGIES, testRedisPrefix, topologyEnv } from "../support/redis.js";
import { createTestPki, type TestPki } from "../support/tls-certificates.js";
import { grpcTls, nodeTls } from "../support/tls-clients.js";
import { grpcFrame, rawGrpcCallOn } from "../support/raw-grpc.js";

const CLIENT = { clientId: "vault-e2e", clientSecret: "vault-e2e-client-secret", authMethod: "client_secret_basic" } as const;
const REDIRECT = "http://127.0.0.1:9/oauth/callback";
const ENVOY_ID = "spiffe://test.example/ns/gw/sa/envoy";
const OTHER_ID = "spiffe://test.example/ns/apps/sa/other";
const CHECK_PATH = "/envoy.service.auth.v3.Authorization/Check";
const LOGIN_URL = "https://portal.test.example/login/github?next=%2Frepos";
const topology = TEST_TOPOLOGIES[0]!;

describe("upstream tokens from a login to Envoy's Check, on two replicas over mTLS", () => {
  let pki: TestPki;
  let provider: OAuthProvider;
  let space: ReturnType<typeof testRedisPrefix>;
  let replicas: InProcessPortcullis[];
  let clients: Clients;
  let envoys: EnvoyClient[];
  let stranger: EnvoyClient;
  let offsetMs = 0;
  const root = randomBytes(32).toString("base64url");
  let alice = "";
  let alicePrincipal = "";
  let bob = "";

  const check = (envoy: EnvoyClient, token: string) =>
    envoy.check({ method: "GET", path: "/repos/portcullis", headers: { authorization: `Bearer ${token}` } });
  const sentUpstream = (answer: WireCheckResponse, token: string) =>
    upstreamHeaders({ authorization: `Bearer ${token}` }, answer.ok_response!).authorization;

  beforeAll(async () => {
    pki = createTestPki();
    provider = await startOAuthProvider([CLIENT]);
    space = testRedisPrefix(topology.settings);
    const server = pki.server("portcullis");
    const env = {
      ...topologyEnv(topology),
      PORTCULLIS_REDIS_PREFIX: space.prefix,
      PORTCULLIS_ROOT_TOKENS: root,
      PORTCULLIS_TLS_CERT_FILE: server.cert,
      PORTCULLIS_TLS_KEY_FILE: server.key,
      PORTCULLIS_TLS_CLIENT_CA_FILE: pki.ca.cert,
      PORTCULLIS_DCR_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
      PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true",
      PORTCULLIS_UPSTREAM_TOKENS: JSON.stringify({ recipients: [ENVOY_ID], refresh_wait_ms: 5000, login_urls: { github: LOGIN_URL } }),
      PORTCULLIS_POLICY: JSON.stringify({ rules: [{ name: "repos", path_prefix: "/repos", scope: "repos", upstream_token: "github" }] }),
    };
    const clock = () => Date.now() + offsetMs;
    replicas = [await startInProcess(env, clock), await startInProcess(env, clock)];
    const urls = replicas.map((replica) => replica.url.replace("http://", "https://"));
    const admin = pki.client("admin", ["URI:spiffe://test.example/ns/ops/sa/admin"]);
    clients = createClients(urls[0]!, nodeTls(pki, admin));
    envoys = urls.map((url) => createEnvoyClient(url, grpcTls(pki, pki.client("envoy", [`URI:${ENVOY_ID}`]))));
    stranger = createEnvoyClient(urls[0]!, grpcTls(pki, pki.client("other", [`URI:${OTHER_ID}`])));
    const minted = await clients.admin.mintToken({ scopes: ["repos"], name: "alice" }, bearer(root));
    alice = minted.token;
    alicePrincipal = `token:${minted.record!.tokenId}`;
    bob = (await clients.admin.mintToken({ scopes: ["repos"], name: "bob" }, bearer(root))).token;
  });
  afterAll(async () => {
    for (const envoy of [...(envoys ?? []), stranger]) envoy?.close();
    await Promise.all((replicas ?? []).map((replica) => replica.stop()));
    await provider?.close();
    await space?.cleanup();
    pki?.dispose();
  });

  async function rawRedisValues(): Promise<string> {
    const client = await connectRedis(topology.settings, 5000);
    const values: string[] = [];
    try {
      await scanEveryMaster(client, `${space.prefix.replace(/[{}]/g, "")}*`, async (node, keys) => {
        for (const key of keys) {
          const type = await node.type(key);
          if (type === "string") values.push((await node.get(key)) ?? "");
          if (type === "hash") values.push(JSON.stringify(await node.hgetall(key)));
          if (type === "set") values.push(...(await node.smembers(key)));
        }
      });
    } finally {
      client.disconnect();
    }
    return values.join("\n");
  }

  it("keeps the tokens of a login with store_upstream_tokens and returns none of them", async () => {
    const started = await clients.oauthFlow.startAuthorization(
      {
        upstreamIssuer: provider.issuer,
        clientSource: { case: "client", value: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret } },
        redirectUri: REDIRECT,
        scopes: ["repo"],
        storeUpstreamTokens: true,
        upstreamId: "github",
        principal: alicePrincipal,
      },
      bearer(root),
    );
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const completed = await clients.oauthFlow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, bearer(root));
    expect(completed).toMatchObject({ upstreamTokensStored: true, principal: alicePrincipal, upstreamId: "github", accessToken: "", refreshToken: "" });
    expect(provider.issuedAccessTokens).toHaveLength(1);
  });

  it("puts the upstream access token in place of the client's credential on either replica", async () => {
    for (const envoy of envoys) {
      const answer = await check(envoy, alice);
      expect(answer.status?.code).toBe(0);
      expect(sentUpstream(answer, alice)).toBe(`Bearer ${provider.issuedAccessTokens[0]}`);
      expect(JSON.stringify(answer.dynamic_metadata)).not.toContain(provider.issuedAccessTokens[0]);
    }
  });

  it("serves the swapped Check on the lean gRPC path, which reads the recipient's certificate from the connection", async () => {
    const session = http2.connect(replicas[0]!.url.replace("http://", "https://"), nodeTls(pki, pki.client("envoy-raw", [`URI:${ENVOY_ID}`])));
    session.on("error", () => undefined);
    try {
      // Only the lean path answers a garbled message with this text; connect-node's would differ.
      const garbled = await rawGrpcCallOn(session, CHECK_PATH, grpcFrame(Buffer.from([0x12, 0xff])));
      expect([garbled.status, garbled.message]).toEqual([3, "malformed envoy.service.auth.v3.CheckRequest message"]);
      const request = create(CheckRequestSchema, {
        attributes: { request: { http: { method: "GET", path: "/repos/portcullis", headers: { authorization: `Bearer ${alice}` } } } },
      });
      const reply = await rawGrpcCallOn(session, CHECK_PATH, grpcFrame(toBinary(CheckRequestSchema, request)));
      expect(reply.status).toBe(0);
      const answer = fromBinary(CheckResponseSchema, reply.body.subarray(5));
      expect(answer.status?.code).toBe(0);
      const ok = answer.httpResponse.case === "okResponse" ? answer.httpResponse.value : undefined;
      expect(ok?.headers.find((option) => option.header?.key === "authorization")?.header?.value).toBe(`Bearer ${provider.issuedAccessTokens[0]}`);
    } finally {
      session.close();
    }
  });

  it("gives no token to a caller whose certificate is not a recipient", async () => {
    const answer = await check(stranger, alice);
    expect(answer.ok_response).toBeFalsy();
    expect(answer.status?.message).toBe("upstream_token_not_permitted");
    expect(JSON.stringify(answer)).not.toContain(provider.issuedAccessTokens[0]);
  });

  it("answers Authorize on the rule without any upstream token", async () => {
    const answer = await clients.authorization.authorize({ authorization: `Bearer ${alice}`, resource: "GET /repos/portcullis" }, bearer(root));
    expect(answer.reason).toBe("ok");
    expect(JSON.stringify(answer, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value))).not.toContain("at-");
  });

  it("asks a principal without an entry to log in upstream (401), naming the upstream's login URL in the challenge", async () => {
    const answer = await check(envoys[0]!, bob);
    expect(answer.status?.message).toBe("upstream_login_required");
    expect(answer.denied_response?.status?.code).toBe("Unauthorized");
    expect(headerNamed(answer.denied_response!.headers, "www-authenticate")?.header.value).toBe(
      `Bearer realm="portcullis", error="invalid_token", error_description="upstream_login_required", login_uri="${LOGIN_URL}"`,
    );
  });

  it("refreshes an expired token exactly once for 50 concurrent Checks across both replicas, keeping the rotated refresh token", async () => {
    provider.refreshDelayMs = 150;
    offsetMs += 3600 * 1000;
    const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => check(envoys[index % 2]!, alice)));
    provider.refreshDelayMs = 0;
    expect(provider.refreshes).toHaveLength(1);
    const refreshed = provider.refreshes[0]!;
    expect(new Set(answers.map((answer) => sentUpstream(answer, alice)))).toEqual(new Set([`Bearer ${refreshed.accessToken}`]));

    offsetMs += 3600 * 1000;
    expect(sentUpstream(await check(envoys[1]!, alice), alice)).toBe(`Bearer ${provider.refreshes[1]?.accessToken}`);
    expect(provider.refreshes[1]!.refreshToken).toBe(refreshed.newRefreshToken);
  });

  it("holds no upstream token or client secret in clear in Redis", async () => {
    const raw = await rawRedisValues();
    expect(raw).toContain("pcl-enc:v1:");
    const secrets = [...provider.issuedAccessTokens, ...provider.refreshes.map((refresh) => refresh.newRefreshToken), CLIENT.clientSecret];
    for (const secret of secrets) expect(raw).not.toContain(secret);
    for (const replica of replicas) for (const secret of secrets) expect(replica.output()).not.toContain(secret);
  });

  it("lists a principal's entries to root as metadata only, and deletes one or all of them", async () => {
    const vault = createClient(
      UpstreamTokenService,
      createGrpcTransport({ baseUrl: replicas[1]!.url.replace("http://", "https://"), nodeOptions: nodeTls(pki, pki.client("ops", ["DNS:ops.test"])) }),
    );
    const { entries } = await vault.listUpstreamTokens({ principal: alicePrincipal }, bearer(root));
    expect(entries.map((entry) => [entry.upstreamId, entry.refreshable, entry.scopes])).toEqual([["github", true, ["repo"]]]);
    const listed = JSON.stringify(entries, (_key, value: unknown) => (typeof value === "bigint" ? String(value) : value));
    for (const secret of [...provider.issuedAccessTokens, ...provider.refreshes.map((refresh) => refresh.newRefreshToken), "pcl-enc"]) {
      expect(listed).not.toContain(secret);
    }
    expect((await rejectionOf(vault.listUpstreamTokens({ principal: alicePrincipal }, bearer(alice)))).rawMessage).toMatch(/root/);
    expect((await rejectionOf(vault.deleteUpstreamToken({ principal: alicePrincipal, upstreamId: "gitlab" }, bearer(root)))).code).toBe(5);
    expect((await vault.deleteUpstreamTokens({ principal: `${alicePrincipal}-nobody` }, bearer(root))).deleted).toBe(0);
  });

  it("deletes the entry when the upstream answers invalid_grant, and the next Check asks for a login", async () => {
    provider.revokeRefreshTokens();
    offsetMs += 3600 * 1000;
    expect((await check(envoys[0]!, alice)).status?.message).toBe("upstream_login_required");
    const refreshesSoFar = provider.refreshes.length;
    expect((await check(envoys[1]!, alice)).status?.message).toBe("upstream_login_required");
    expect(provider.refreshes).toHaveLength(refreshesSoFar);
  });

  it("refuses store_upstream_tokens for another principal to a caller without root", async () => {
    const flowOnly = (await clients.admin.mintToken({ scopes: ["oauth:flow"], name: "flow" }, bearer(root))).token;
    const error = await rejectionOf(
      clients.oauthFlow.startAuthorization(
        {
          upstreamIssuer: provider.issuer,
          clientSource: { case: "client", value: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret } },
          redirectUri: REDIRECT,
          storeUpstreamTokens: true,
          upstreamId: "github",
          principal: alicePrincipal,
        },
        bearer(flowOnly),
      ),
    );
    expect(error.rawMessage).toMatch(/^root_required/);
  });
});
