import { createHash } from "node:crypto";
import { Code } from "@connectrpc/connect";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { jwksKeySourcePool } from "../../src/credentials/jwt/jwks-key-source.js";
import { UnavailableError } from "../../src/errors.js";
import { createDcrRegistry } from "../../src/oauth/dcr-registry.js";
import { jwksIdTokenVerifier } from "../../src/oauth/id-token-verifier.js";
import { createOAuthFlow, type OAuthFlow } from "../../src/oauth/oauth-flow.js";
import { plainSealer } from "../../src/sealing/secret-sealer.js";
import { upstreamAllowList } from "../../src/oauth/upstream-allow-list.js";
import { UPSTREAM_UNAVAILABLE } from "../../src/oauth/upstream-failure.js";
import type { Store } from "../../src/store/store.js";
import { nonPublicRange } from "../../src/upstream/address-policy.js";
import { guardedDispatcher } from "../../src/upstream/guarded-dispatcher.js";
import { IssuerDiscovery } from "../../src/upstream/issuer-discovery.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { startClientFlow, startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";
import { STORE_BACKENDS } from "../support/store-backends.js";

const CLIENT = { clientId: "confidential", clientSecret: "confidential-secret-value", authMethod: "client_secret_basic" } as const;
const REDIRECT_URI = "http://127.0.0.1:9/oauth/callback";

/** A Portcullis on each store backend, reaching the local provider (loopback, plain http) with the development flag. */
const SERVERS = [
  {
    backend: "embedded",
    start: async () => ({ server: await startInProcess({ PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" }), dispose: async () => {} }),
  },
  {
    backend: "redis",
    start: async () => {
      const { prefix, cleanup } = testRedisPrefix();
      const server = await startInProcess({
        PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true",
        REDIS_URL: TEST_REDIS_URL,
        PORTCULLIS_REDIS_PREFIX: prefix,
      });
      return { server, dispose: cleanup };
    },
  },
];

describe.each(SERVERS)("a pending flow on the $backend backend after a failed completion", ({ start }) => {
  let provider: OAuthProvider;
  let running: { server: InProcessPortcullis; dispose(): Promise<void> };
  let flow: Clients["oauthFlow"];
  let auth: ReturnType<typeof bearer>;

  /** A login at the provider: the state and code a browser brings back. */
  const login = async () => {
    const started = await startClientFlow(flow, auth, provider, CLIENT, REDIRECT_URI);
    return provider.authorize(started.authorizationUrl);
  };

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    running = await start();
    flow = createClients(running.server.url).oauthFlow;
    auth = bearer(await running.server.rootToken());
  });
  afterAll(async () => {
    await running?.server.stop();
    await running?.dispose();
    await provider?.close();
  });

  it("stays usable when the token endpoint was down, and a retry completes", async () => {
    const { code, state } = await login();
    await provider.pause();
    try {
      const failed = await rejectionOf(flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth));
      expect([failed.code, failed.rawMessage]).toEqual([Code.Unavailable, UPSTREAM_UNAVAILABLE]);
    } finally {
      await provider.resume();
    }
    const completed = await flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth);
    expect(completed.subject).toBe("user-42");
  });

  it("is not used up by a completion without the client secret", async () => {
    const { code, state } = await login();
    const refused = await rejectionOf(flow.completeAuthorization({ state, code }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.InvalidArgument,
      "client_secret: is required: this flow's client was given with a secret, which is not kept between the calls",
    ]);
    const completed = await flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth);
    expect(completed.subject).toBe("user-42");
  });

  it("is still used up by a completion that succeeded", async () => {
    const { code, state } = await login();
    await flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth);
    const replay = await rejectionOf(flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth));
    expect([replay.code, replay.rawMessage]).toEqual([Code.FailedPrecondition, "state_used: this authorization was completed already"]);
  });

  it("lets one of two concurrent completions exchange the code, even after a failed one", async () => {
    const { code, state } = await login();
    await provider.pause();
    await rejectionOf(flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth));
    await provider.resume();
    const exchangesBefore = provider.tokenRequests.length;
    const results = await Promise.allSettled(
      [1, 2].map(() => flow.completeAuthorization({ state, code, clientSecret: CLIENT.clientSecret }, auth)),
    );
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(provider.tokenRequests.length - exchangesBefore).toBe(1);
  });
});

describe.each(STORE_BACKENDS)("a flow whose discovered token endpoint is a refused address, on the $label backend", (backend) => {
  let provider: OAuthProvider;
  let space: Awaited<ReturnType<typeof backend.createSpace>>;
  let store: Store;
  let oauthFlow: OAuthFlow;
  let dispatcher: ReturnType<typeof guardedDispatcher>;

  beforeAll(async () => {
    provider = await startOAuthProvider([CLIENT]);
    // 127.0.0.2 is loopback too: were the guard to let it through, nothing would leave this machine.
    provider.metadata.token_endpoint = `http://127.0.0.2:${new URL(provider.issuer).port}/token`;
  });
  afterAll(async () => {
    await provider?.close();
  });
  beforeEach(async () => {
    space = await backend.createSpace();
    store = await space.open();
    // Stands in for the public internet: the provider's 127.0.0.1 counts as public, every other address as in production.
    dispatcher = guardedDispatcher({ plainHttp: true, refusal: (address) => (address === "127.0.0.1" ? undefined : nonPublicRange(address)) });
    const http = { timeoutMs: 2000, maxBytes: 64 * 1024, dispatcher };
    const discovery = new IssuerDiscovery(http, 60_000, Date.now);
    oauthFlow = createOAuthFlow({
      dcr: createDcrRegistry({
        store: store.dcr,
        clock: Date.now,
        sealer: plainSealer,
        settings: { staleAfterMs: 60_000, leaseTtlMs: 30_000, awaitMaxMs: 1000, awaitPollMs: 50 },
      }),
      states: store.oauthStates,
      discovery,
      allowList: upstreamAllowList([], discovery),
      idTokens: jwksIdTokenVerifier(jwksKeySourcePool({ fetchLimits: http }), Date.now, 30),
      sealer: plainSealer,
      clock: Date.now,
      http,
      stateTtlMs: 60_000,
    });
  });
  afterEach(async () => {
    await dispatcher.destroy();
    await store.close();
    await space.dispose();
  });

  it("is refused with the generic reason before the code is sent, and the state stays pending", async () => {
    const started = await oauthFlow.start({
      upstreamIssuer: provider.issuer,
      client: { clientId: CLIENT.clientId, clientSecret: CLIENT.clientSecret, tokenEndpointAuthMethod: "" },
      redirectUri: REDIRECT_URI,
      scopes: ["openid"],
      resource: "",
      anyUpstream: true,
    });
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const exchangesBefore = provider.tokenRequests.length;
    for (const attempt of [1, 2]) {
      const failure = await oauthFlow.complete({ state, code, clientSecret: CLIENT.clientSecret }).catch((error: unknown) => error);
      expect([attempt, failure]).toEqual([attempt, expect.any(UnavailableError)]);
      expect((failure as UnavailableError).message).toBe(UPSTREAM_UNAVAILABLE);
      expect((failure as UnavailableError).detail).toMatch(/UPSTREAM_ADDRESS_REFUSED.*127\.0\.0\.2 is a loopback address$/);
    }
    expect(provider.tokenRequests).toHaveLength(exchangesBefore);
    expect(await store.oauthStates.find(stateIdOf(state), Date.now())).toMatchObject({ record: { clientId: CLIENT.clientId } });
  });
});

function stateIdOf(state: string): string {
  return createHash("sha256").update(state, "utf8").digest("hex");
}
