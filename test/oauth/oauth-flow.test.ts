import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DcrKeySchema } from "../../gen/portcullis/v1/dcr_pb.js";
import { UPSTREAM_UNAVAILABLE } from "../../src/oauth/upstream-failure.js";
import { redisKeys } from "../../src/store/redis/redis-keys.js";
import { bearer, rejectionOf, createClients, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { startClientFlow, startOAuthProvider, type OAuthProvider } from "../support/oauth-provider.js";
import { startReplicas, type Replicas } from "../support/replicas.js";
import { TEST_REDIS_URL } from "../support/redis.js";

const REDIRECT_URI = "http://127.0.0.1:9/oauth/callback";
const CONFIDENTIAL = { clientId: "confidential", clientSecret: "confidential-secret-value", authMethod: "client_secret_basic" } as const;
const POSTING = { clientId: "posting", clientSecret: "posting-secret-value", authMethod: "client_secret_post" } as const;
const PUBLIC = { clientId: "public", authMethod: "none" } as const;

describe("the authorization-code flow with PKCE across two replicas", () => {
  let provider: OAuthProvider;
  let replicas: Replicas;
  let onA: Clients["oauthFlow"];
  let onB: Clients["oauthFlow"];
  let auth: ReturnType<typeof bearer>;
  let raw: Redis;
  const seenSecrets: string[] = [];

  const startConfidential = (scopes = ["openid", "profile"]) => startClientFlow(onA, auth, provider, CONFIDENTIAL, REDIRECT_URI, scopes);

  /** The flow as the shared Redis holds it: under the hash of its state. */
  const storedFlow = async (state: string) =>
    raw.get(redisKeys(replicas.prefix).oauthState(createHash("sha256").update(state).digest("hex")));

  beforeAll(async () => {
    provider = await startOAuthProvider([CONFIDENTIAL, POSTING, PUBLIC]);
    // The local provider listens on loopback over plain http.
    replicas = await startReplicas(2, { PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true", PORTCULLIS_OAUTH_ALLOWED_ISSUERS: provider.issuer });
    [onA, onB] = replicas.servers.map((server) => createClients(server.url).oauthFlow) as [Clients["oauthFlow"], Clients["oauthFlow"]];
    auth = bearer(replicas.rootToken);
    raw = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    raw?.disconnect();
    await replicas?.stop();
    await provider?.close();
  });

  it("completes on one replica a login started on the other", async () => {
    const started = await startConfidential();
    const url = new URL(started.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${provider.issuer}/authorize`);
    expect(Object.fromEntries(url.searchParams)).toMatchObject({
      response_type: "code",
      client_id: "confidential",
      redirect_uri: REDIRECT_URI,
      scope: "openid profile",
      state: started.state,
      code_challenge_method: "S256",
    });
    expect(url.searchParams.get("nonce")).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const { code, state } = await provider.authorize(started.authorizationUrl);
    expect(state).toBe(started.state);
    const completed = await onB.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth);
    expect(completed).toMatchObject({ tokenType: "Bearer", expiresIn: 3600n, subject: "user-42", scope: "openid profile", redirectUri: REDIRECT_URI });
    expect(completed.accessToken).toMatch(/^at-/);
    expect(completed.idToken.split(".")).toHaveLength(3);
    expect(provider.tokenRequests.at(-1)).toEqual({ clientId: "confidential", via: "client_secret_basic" });
    seenSecrets.push(completed.accessToken, completed.refreshToken, code);
  });

  it("refuses the same state a second time, on either replica", async () => {
    const started = await startConfidential();
    const { code, state } = await provider.authorize(started.authorizationUrl);
    await onB.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth);
    for (const replica of [onA, onB]) {
      const again = await rejectionOf(replica.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth));
      expect([again.code, again.rawMessage]).toEqual([Code.FailedPrecondition, "state_used: this authorization was completed already"]);
    }
  });

  it("lets exactly one of two concurrent completions of one state through", async () => {
    const started = await startConfidential();
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const results = await Promise.allSettled(
      [onA, onB].map((replica) => replica.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth)),
    );
    expect(results.map((result) => result.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  it("keeps no client secret given inline in the stored flow, and needs it again to complete", async () => {
    const started = await startConfidential();
    const stored = await storedFlow(started.state);
    expect(stored).toContain(CONFIDENTIAL.clientId);
    expect(stored).not.toContain(CONFIDENTIAL.clientSecret);
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const exchangesBefore = provider.tokenRequests.length;
    const refused = await rejectionOf(onB.completeAuthorization({ state, code }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.InvalidArgument,
      "client_secret: is required: this flow's client was given with a secret, which is not kept between the calls",
    ]);
    expect(provider.tokenRequests).toHaveLength(exchangesBefore);
  });

  it("answers NotFound for a state nobody started", async () => {
    const unknown = await rejectionOf(onB.completeAuthorization({ state: "never-issued", code: "x" }, auth));
    expect(unknown.code).toBe(Code.NotFound);
  });

  it("reports the provider's refusal when the code verifier is wrong, without echoing it", async () => {
    const started = await startConfidential();
    const stored = redisKeys(replicas.prefix).oauthState(createHash("sha256").update(started.state).digest("hex"));
    const wrongVerifier = "wrong-verifier-wrong-verifier-wrong-verifier-0123";
    const flow = JSON.parse((await raw.get(stored))!) as { codeVerifier: string };
    flow.codeVerifier = wrongVerifier;
    await raw.set(stored, JSON.stringify(flow), "KEEPTTL");

    const { code, state } = await provider.authorize(started.authorizationUrl);
    const refused = await rejectionOf(onB.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.FailedPrecondition,
      "token_exchange_rejected: the token endpoint refused the code (invalid_grant)",
    ]);
    expect(refused.rawMessage).not.toContain(wrongVerifier);
  });

  it("rejects an ID token whose nonce is not the flow's", async () => {
    const started = await startConfidential();
    const { code, state } = await provider.authorize(started.authorizationUrl);
    provider.idTokenClaims = { nonce: "a-nonce-from-another-login" };
    try {
      const rejected = await rejectionOf(onB.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth));
      expect([rejected.code, rejected.rawMessage]).toEqual([Code.FailedPrecondition, "id_token_invalid: nonce does not match the flow's"]);
    } finally {
      provider.idTokenClaims = undefined;
    }
  });

  it("uses the client and endpoints of a stored DCR resolution, authenticating with client_secret_post", async () => {
    const dcrKey = create(DcrKeySchema, {
      issuer: "https://portcullis.example.com",
      upstreamId: "local-idp",
      redirectUri: REDIRECT_URI,
      scopeSet: { case: "scopes", value: { values: ["openid"] } },
    });
    const dcr = createClients(replicas.servers[1]!.url).dcr;
    await dcr.putDcrResolution(
      {
        key: dcrKey,
        resolution: {
          clientId: POSTING.clientId,
          clientSecret: POSTING.clientSecret,
          tokenEndpointAuthMethod: "client_secret_post",
          authorizationEndpoint: `${provider.issuer}/authorize`,
          tokenEndpoint: `${provider.issuer}/token`,
        },
      },
      auth,
    );
    const started = await onA.startAuthorization(
      { upstreamIssuer: provider.issuer, clientSource: { case: "dcrKey", value: dcrKey }, scopes: ["openid"] },
      auth,
    );
    expect(await storedFlow(started.state)).not.toContain(POSTING.clientSecret);
    const { code, state, redirectUri } = await provider.authorize(started.authorizationUrl);
    expect(redirectUri).toBe(REDIRECT_URI);
    const completed = await onB.completeAuthorization({ state, code }, auth);
    expect([completed.subject, provider.tokenRequests.at(-1)]).toEqual(["user-42", { clientId: "posting", via: "client_secret_post" }]);
  });

  it("refuses to complete a DCR flow whose resolution names another client by then", async () => {
    const dcrKey = create(DcrKeySchema, {
      issuer: "https://portcullis.example.com",
      upstreamId: "re-registered-idp",
      redirectUri: REDIRECT_URI,
      scopeSet: { case: "scopes", value: { values: ["read"] } },
    });
    const dcr = createClients(replicas.servers[1]!.url).dcr;
    const put = (clientId: string, clientSecret: string) =>
      dcr.putDcrResolution(
        {
          key: dcrKey,
          resolution: {
            clientId,
            clientSecret,
            authorizationEndpoint: `${provider.issuer}/authorize`,
            tokenEndpoint: `${provider.issuer}/token`,
          },
        },
        auth,
      );
    await put(CONFIDENTIAL.clientId, CONFIDENTIAL.clientSecret);
    const started = await onA.startAuthorization({ clientSource: { case: "dcrKey", value: dcrKey }, scopes: ["read"] }, auth);
    const { code, state } = await provider.authorize(started.authorizationUrl);
    await put(POSTING.clientId, POSTING.clientSecret);
    const exchangesBefore = provider.tokenRequests.length;
    const refused = await rejectionOf(onB.completeAuthorization({ state, code }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.FailedPrecondition,
      "dcr_changed: the DCR resolution this flow started with is gone or names another client; start again",
    ]);
    expect(provider.tokenRequests).toHaveLength(exchangesBefore);
  });

  it("refuses a client secret at completion for a flow whose secret comes from its DCR resolution", async () => {
    const dcrKey = create(DcrKeySchema, {
      issuer: "https://portcullis.example.com",
      upstreamId: "dcr-secret-idp",
      redirectUri: REDIRECT_URI,
      scopeSet: { case: "scopes", value: { values: ["read"] } },
    });
    await createClients(replicas.servers[1]!.url).dcr.putDcrResolution(
      {
        key: dcrKey,
        resolution: {
          clientId: CONFIDENTIAL.clientId,
          clientSecret: CONFIDENTIAL.clientSecret,
          authorizationEndpoint: `${provider.issuer}/authorize`,
          tokenEndpoint: `${provider.issuer}/token`,
        },
      },
      auth,
    );
    const started = await onA.startAuthorization({ clientSource: { case: "dcrKey", value: dcrKey }, scopes: ["read"] }, auth);
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const refused = await rejectionOf(onB.completeAuthorization({ state, code, clientSecret: "a-secret-from-elsewhere" }, auth));
    expect([refused.code, refused.rawMessage]).toEqual([
      Code.InvalidArgument,
      "client_secret: must be empty: this flow's client secret comes from its DCR resolution",
    ]);
  });

  it("runs a public client without a secret and without openid", async () => {
    const started = await onA.startAuthorization(
      {
        upstreamIssuer: provider.issuer,
        clientSource: { case: "client", value: { clientId: PUBLIC.clientId } },
        redirectUri: REDIRECT_URI,
        scopes: ["read"],
        resource: "https://mcp.example.com/",
      },
      auth,
    );
    expect(new URL(started.authorizationUrl).searchParams.get("resource")).toBe("https://mcp.example.com/");
    expect(new URL(started.authorizationUrl).searchParams.has("nonce")).toBe(false);
    const { code, state } = await provider.authorize(started.authorizationUrl);
    const completed = await onB.completeAuthorization({ state, code }, auth);
    expect([completed.idToken, completed.subject, provider.tokenRequests.at(-1)]).toEqual(["", "", { clientId: "public", via: "none" }]);
  });

  it("needs scope oauth:flow or a root credential", async () => {
    const admin = createClients(replicas.servers[0]!.url).admin;
    const dcrOnly = await admin.mintToken({ scopes: ["dcr:write"], name: "no flow" }, auth);
    const flowToken = await admin.mintToken({ scopes: ["oauth:flow"], name: "flow" }, auth);
    const request = {
      upstreamIssuer: provider.issuer,
      clientSource: { case: "client" as const, value: { clientId: PUBLIC.clientId } },
      redirectUri: REDIRECT_URI,
    };
    expect((await rejectionOf(onA.startAuthorization(request, bearer(dcrOnly.token)))).code).toBe(Code.PermissionDenied);
    await expect(onA.startAuthorization(request, bearer(flowToken.token))).resolves.toBeDefined();
  });

  it("answers the generic upstream_unavailable when the provider cannot be reached, the cause going to the log only", async () => {
    const started = await startConfidential();
    const { code, state } = await provider.authorize(started.authorizationUrl);
    await provider.close();
    const unavailable = await rejectionOf(onB.completeAuthorization({ state, code, clientSecret: CONFIDENTIAL.clientSecret }, auth));
    expect([unavailable.code, unavailable.rawMessage]).toEqual([Code.Unavailable, UPSTREAM_UNAVAILABLE]);
    // The replica's log reaches this process through a pipe, not necessarily before its answer.
    const cause = /token endpoint \(http:\/\/127\.0\.0\.1:\d+\/token\) could not be reached \(ECONNREFUSED\)/;
    await eventually(async () => cause.test(replicas.servers[1]!.output()), 20_000);
  });

  it("never writes a client secret, code or token to either replica's output", () => {
    const output = replicas.servers.map((server) => server.output()).join("\n");
    for (const secret of [CONFIDENTIAL.clientSecret, POSTING.clientSecret, replicas.rootToken, ...seenSecrets]) {
      expect(output).not.toContain(secret);
    }
  });
});
