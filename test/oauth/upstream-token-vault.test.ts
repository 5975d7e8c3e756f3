import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../../src/errors.js";
import type { OAuthFlowRecord } from "../../src/model/oauth-flow-record.js";
import { codeChallengeS256, createCodeVerifier } from "../../src/oauth/pkce.js";
import { envelopeSealer } from "../../src/sealing/secret-sealer.js";
import { exchangeCode } from "../../src/oauth/token-endpoint.js";
import { createUpstreamTokenVault, type UpstreamTokenVault } from "../../src/oauth/upstream-token-vault.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import { EMBEDDED_DATA_FILE, openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { scanEveryMaster } from "../../src/store/redis/redis-scan.js";
import { startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { TEST_TOPOLOGIES, testRedisPrefix } from "../support/redis.js";

const CLIENT = { clientId: "vault-client", clientSecret: "vault-client-secret-value", authMethod: "client_secret_post" } as const;
const REDIRECT = "http://127.0.0.1:9/callback";
const HTTP = { timeoutMs: 5000, maxBytes: 1024 * 1024 };
const KEY = Buffer.alloc(32, 9);
const SETTINGS = { refreshSkewMs: 60_000, refreshLeaseMs: 10_000, refreshWaitMs: 5000, refreshPollMs: 20 };
const topology = TEST_TOPOLOGIES[0]!;

/** A vault over `store` sealing with KEY, on the test's clock; no DCR client is involved. */
function sealingVault(store: Store["upstreamTokens"], clock: () => number): UpstreamTokenVault {
  return createUpstreamTokenVault({
    store,
    sealer: envelopeSealer(KEY),
    dcr: { get: () => Promise.reject(new Error("no DCR in this test")) },
    clock,
    http: HTTP,
    settings: SETTINGS,
  });
}

/** A login at the provider as a browser would make it, and the code exchanged: real upstream tokens. */
async function login(provider: OAuthProvider) {
  const verifier = createCodeVerifier();
  const url = new URL(`${provider.issuer}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: "code",
    client_id: CLIENT.clientId,
    redirect_uri: REDIRECT,
    state: "s",
    code_challenge: codeChallengeS256(verifier),
    code_challenge_method: "S256",
    scope: "repo",
  })) {
    url.searchParams.set(name, value);
  }
  const { code } = await provider.authorize(url.toString());
  const tokens = await exchangeCode(
    { tokenEndpoint: `${provider.issuer}/token`, ...CLIENT, code, redirectUri: REDIRECT, codeVerifier: verifier, resource: "" },
    HTTP,
  );
  const flow: OAuthFlowRecord = {
    upstreamIssuer: provider.issuer,
    tokenEndpoint: `${provider.issuer}/token`,
    clientId: CLIENT.clientId,
    tokenEndpointAuthMethod: CLIENT.authMethod,
    redirectUri: REDIRECT,
    codeVerifier: "",
    nonce: "",
    scopes: ["repo"],
    resource: "",
    createdAt: 0,
    expiresAt: 0,
  };
  return { tokens, flow };
}

describe("the upstream token vault on two replicas sharing one Redis", () => {
  let provider: OAuthProvider;
  let space: ReturnType<typeof testRedisPrefix>;
  let stores: Store[];
  let vaults: UpstreamTokenVault[];
  let now: number;
  const key = { principal: "token:tok_alice", upstreamId: "github" };

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
  });
  afterAll(async () => {
    await provider?.close();
  });
  beforeEach(async () => {
    space = testRedisPrefix(topology.settings);
    now = Date.now();
    stores = await Promise.all([0, 1].map(() => openRedisStore({ ...topology.settings, prefix: space.prefix, startupTimeoutMs: 5000 })));
    vaults = stores.map((store) => sealingVault(store.upstreamTokens, () => now));
    provider.refreshes.length = 0;
    provider.rotateRefreshTokens = true;
    provider.failRefreshes = false;
    provider.refreshDelayMs = 0;
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await space.cleanup();
  });

  async function rawValues(): Promise<string> {
    const client = await connectRedis(topology.settings, 5000);
    const values: string[] = [];
    try {
      await scanEveryMaster(client, `${space.prefix.replace(/[{}]/g, "")}*`, async (node, keys) => {
        for (const found of keys) {
          const type = await node.type(found);
          if (type === "string") values.push((await node.get(found)) ?? "");
          if (type === "set") values.push(...(await node.smembers(found)));
        }
      });
    } finally {
      client.disconnect();
    }
    return values.join("\n");
  }

  it("keeps the tokens sealed, answers the access token on either replica, and lists no secret", async () => {
    const { tokens, flow } = await login(provider);
    const kept = await vaults[0]!.keep(key, tokens, flow, CLIENT.clientSecret);
    expect(kept).toMatchObject({ principal: key.principal, upstreamId: "github", scopes: ["repo"], refreshable: true });

    expect(await vaults[1]!.access(key)).toEqual({ accessToken: tokens.accessToken, tokenType: "Bearer" });
    const raw = await rawValues();
    expect(raw).toContain("pcl-enc:v1:");
    for (const secret of [tokens.accessToken, tokens.refreshToken, CLIENT.clientSecret]) expect(raw).not.toContain(secret);
    const listed = JSON.stringify(await vaults[1]!.list(key.principal));
    for (const secret of [tokens.accessToken, tokens.refreshToken, "pcl-enc"]) expect(listed).not.toContain(secret);
    expect(provider.refreshes).toHaveLength(0);
  });

  it("refreshes an expiring token exactly once for 50 concurrent requests on two replicas, and keeps the rotated refresh token", async () => {
    const { tokens, flow } = await login(provider);
    await vaults[0]!.keep(key, tokens, flow, CLIENT.clientSecret);
    provider.refreshDelayMs = 200;
    now += 3600 * 1000;

    const answers = await Promise.all(Array.from({ length: 50 }, (_, index) => vaults[index % 2]!.access(key)));
    expect(provider.refreshes).toHaveLength(1);
    const refreshed = provider.refreshes[0]!;
    expect(refreshed.refreshToken).toBe(tokens.refreshToken);
    expect(new Set(answers.map((answer) => ("accessToken" in answer ? answer.accessToken : JSON.stringify(answer))))).toEqual(
      new Set([refreshed.accessToken]),
    );

    // The next refresh presents the rotated refresh token: the old one is revoked upstream.
    provider.refreshDelayMs = 0;
    now += 3600 * 1000;
    expect(await vaults[1]!.access(key)).toMatchObject({ accessToken: provider.refreshes[1]?.accessToken });
    expect(provider.refreshes[1]!.refreshToken).toBe(refreshed.newRefreshToken);
    const raw = await rawValues();
    for (const secret of [refreshed.accessToken, refreshed.newRefreshToken, provider.refreshes[1]!.newRefreshToken]) expect(raw).not.toContain(secret);
  });

  it("serves the still-valid token while another replica holds the refresh lease", async () => {
    const { tokens, flow } = await login(provider);
    await vaults[0]!.keep(key, tokens, flow, CLIENT.clientSecret);
    // Inside the skew, not yet expired.
    now += 3600 * 1000 - 30_000;
    await stores[0]!.upstreamTokens.acquireLease(key, "other-replica", 10_000, now);
    expect(await vaults[1]!.access(key)).toEqual({ accessToken: tokens.accessToken, tokenType: "Bearer" });
    expect(provider.refreshes).toHaveLength(0);
  });

  it("deletes the entry when the upstream answers invalid_grant, and then asks for a new login", async () => {
    const { tokens, flow } = await login(provider);
    await vaults[0]!.keep(key, tokens, flow, CLIENT.clientSecret);
    provider.revokeRefreshTokens();
    now += 3600 * 1000;
    expect(await vaults[0]!.access(key)).toEqual({ missing: true });
    expect(await stores[1]!.upstreamTokens.get(key)).toBeUndefined();
    expect(await vaults[1]!.access(key)).toEqual({ missing: true });
  });

  it("keeps the entry when the refresh fails otherwise, and refreshes once the upstream is back", async () => {
    const { tokens, flow } = await login(provider);
    await vaults[0]!.keep(key, tokens, flow, CLIENT.clientSecret);
    provider.failRefreshes = true;
    now += 3600 * 1000;
    expect(await vaults[0]!.access(key)).toEqual({ refreshFailed: true });
    expect(await stores[1]!.upstreamTokens.get(key)).toBeDefined();
    provider.failRefreshes = false;
    expect(await vaults[1]!.access(key)).toMatchObject({ accessToken: provider.refreshes[0]?.accessToken });
  });

  it("answers missing for a principal or upstream with no entry", async () => {
    expect(await vaults[0]!.access({ principal: "token:tok_nobody", upstreamId: "github" })).toEqual({ missing: true });
  });
});

describe("the upstream token vault on the embedded store", () => {
  it("keeps tokens sealed in the data file, refreshes once for concurrent requests, and deletes on invalid_grant", async () => {
    const provider = await startOAuthProvider([CLIENT]);
    const dataDir = await mkdtemp(join(tmpdir(), "pcl-vault-"));
    const store = await openEmbeddedStore(dataDir);
    try {
      let now = Date.now();
      const vault = sealingVault(store.upstreamTokens, () => now);
      const key = { principal: "token:tok_bob", upstreamId: "gitlab" };
      const { tokens, flow } = await login(provider);
      await vault.keep(key, tokens, flow, CLIENT.clientSecret);
      provider.refreshDelayMs = 100;
      now += 3600 * 1000;
      const answers = await Promise.all(Array.from({ length: 20 }, () => vault.access(key)));
      expect(provider.refreshes).toHaveLength(1);
      expect(new Set(answers.map((answer) => ("accessToken" in answer ? answer.accessToken : "")))).toEqual(new Set([provider.refreshes[0]!.accessToken]));
      const file = await readFile(join(dataDir, EMBEDDED_DATA_FILE), "utf8");
      for (const secret of [tokens.accessToken, tokens.refreshToken, provider.refreshes[0]!.accessToken, provider.refreshes[0]!.newRefreshToken, CLIENT.clientSecret]) {
        expect(file).not.toContain(secret);
      }

      provider.revokeRefreshTokens();
      now += 3600 * 1000;
      expect(await vault.access(key)).toEqual({ missing: true });
      expect(await vault.list(key.principal)).toEqual([]);
    } finally {
      await store.close();
      await rm(dataDir, { recursive: true, force: true });
      await provider.close();
    }
  });
});

describe("a vault without an encryption key", () => {
  it("refuses to keep anything, before a flow starts", () => {
    const vault = createUpstreamTokenVault({
      store: {} as Store["upstreamTokens"],
      dcr: { get: () => Promise.reject(new Error("unused")) },
      clock: Date.now,
      http: HTTP,
      settings: SETTINGS,
    });
    expect(() => vault.checkKeepable({ principal: "token:tok_a", upstreamId: "github" })).toThrow(FailedPreconditionError);
  });
});
