import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialType, Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients, type Clients } from "../../support/clients.js";
import { generateTestKey, type TestKey } from "../../support/oidc-provider.js";
import { TEST_TOPOLOGIES } from "../../support/redis.js";
import { startReplicas, type Replicas } from "../../support/replicas.js";

const ISSUER = "orchestrator";
const POLICY = `
rules:
  - name: pay-once
    tool: pay
    scope: tools:call
    single_use: true
  - name: tools
    tool: "*"
    scope: tools:call
`;

describe.each(TEST_TOPOLOGIES)("per-request tokens across two replicas on one Redis ($label)", (topology) => {
  let key: TestKey;
  let replicas: Replicas;
  let a: Clients;
  let b: Clients;

  beforeAll(async () => {
    key = await generateTestKey("ES256", "orchestrator-1");
    replicas = await startReplicas(2, {
      PORTCULLIS_POLICY: POLICY,
      PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([{ issuer: ISSUER, jwk: key.publicJwk, audiences: "any", max_lifetime_s: 600, leeway_s: 0 }]),
    }, topology);
    a = createClients(replicas.servers[0]!.url);
    b = createClients(replicas.servers[1]!.url);
  });

  afterAll(async () => {
    await replicas?.stop();
  });

  async function requestToken(claims: { jti?: string; lifetimeS?: number; libs?: unknown } = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: "tools:call", libs: claims.libs ?? ["lib-r"] })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .setIssuer(ISSUER)
      .setSubject("agent-7")
      .setJti(claims.jti ?? randomBytes(12).toString("base64url"))
      .setIssuedAt(now)
      .setExpirationTime(now + (claims.lifetimeS ?? 120))
      .sign(key.privateKey);
  }
  const call = (clients: Clients, token: string, tool: string) =>
    clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: `tool:${tool}` });

  it("lets one token drive several tool calls on either replica, with its libs as libraries", async () => {
    const token = await requestToken();
    for (const clients of [a, b, a]) {
      const response = await call(clients, token, "search");
      expect([response.decision, response.libraries, response.principal?.credentialType]).toEqual([
        Decision.ALLOW,
        ["lib-r"],
        CredentialType.REQUEST_TOKEN,
      ]);
    }
  });

  it("denies a replay after expiry, also when the jti comes back in a freshly signed token", async () => {
    const jti = randomBytes(12).toString("base64url");
    const token = await requestToken({ jti, lifetimeS: 2 });
    expect((await call(a, token, "search")).decision).toBe(Decision.ALLOW);
    await new Promise((resolve) => setTimeout(resolve, 3100));
    const expired = await call(b, token, "search");
    expect([expired.decision, expired.reason]).toEqual([Decision.DENY, "token_expired"]);
    const resigned = await call(b, await requestToken({ jti, lifetimeS: 300 }), "search");
    expect([resigned.decision, resigned.reason]).toEqual([Decision.DENY, "jti_replayed"]);
  });

  it("allows a single-use resource exactly once when one token is presented 20 times at once on two replicas", async () => {
    const token = await requestToken();
    const responses = await Promise.all(Array.from({ length: 20 }, (_, index) => call(index % 2 === 0 ? a : b, token, "pay")));
    const allowed = responses.filter((response) => response.decision === Decision.ALLOW);
    expect(allowed).toHaveLength(1);
    expect(responses.filter((response) => response.reason === "already_used")).toHaveLength(19);
    expect((await call(b, token, "search")).decision).toBe(Decision.ALLOW);
  });

  it("denies a single-use resource to a credential without a jti", async () => {
    const minted = await a.admin.mintToken({ scopes: ["tools:call"], name: "no-jti" }, bearer(replicas.rootToken));
    const response = await call(b, minted.token, "pay");
    expect([response.decision, response.reason]).toEqual([Decision.DENY, "single_use_requires_jti"]);
  });

  it.each([
    ["libs that is not an array of strings", { libs: "lib-r" }, "bad_claim"],
    ["libs with a non-string entry", { libs: ["lib-r", 7] }, "bad_claim"],
    ["a lifetime over the configured maximum", { lifetimeS: 3600 }, "lifetime_too_long"],
  ])("denies a token with %s", async (_name, claims, reason) => {
    const response = await call(a, await requestToken(claims), "search");
    expect([response.decision, response.reason]).toEqual([Decision.DENY, reason]);
  });
});
