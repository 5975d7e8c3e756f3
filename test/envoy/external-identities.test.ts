import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CredentialType, Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { createEnvoyClient, metadataOf, upstreamHeaders, type EnvoyClient } from "../support/envoy-client.js";
import { startEnvoyFixture, type EnvoyFixture } from "../support/envoy-fixture.js";
import { generateTestKey, OidcProvider, type TestKey } from "../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";
const ORCHESTRATOR = "orchestrator";

/** Identity headers a client sends along, hoping one of them gets through. */
const SPOOFED = {
  "x-auth-subject": "token:tok_spoofed",
  "x-auth-token-id": "tok_spoofed",
  "x-auth-credential-type": "opaque",
  "x-auth-issuer": "portcullis",
};

describe("external identities never pose as Portcullis's own", () => {
  const idp = new OidcProvider("oidc");
  let idpKey: TestKey;
  let orchestratorKey: TestKey;
  let fixture: EnvoyFixture;
  let clients: Clients;
  let envoy: EnvoyClient;
  /** A real team and a real opaque token: the names a trusted IdP's token tries to take. */
  let teamId: string;
  let opaqueTokenId: string;

  beforeAll(async () => {
    idpKey = await generateTestKey("ES256", "corp-1");
    orchestratorKey = await generateTestKey("ES256", "orchestrator-1");
    await idp.start();
    idp.publish(idpKey);
    fixture = await startEnvoyFixture({
      config: {
        jwt: {
          issuers: [{ issuer: idp.issuer, alias: "corp-idp", audiences: [AUDIENCE] }],
          request_issuers: [{ issuer: ORCHESTRATOR, jwk: orchestratorKey.publicJwk, audiences: "any" }],
        },
      },
    });
    clients = createClients(fixture.server.url);
    envoy = createEnvoyClient(fixture.server.url);
    const asRoot = bearer(fixture.tokens.root);
    teamId = (await clients.admin.createTeam({ name: "payments", libraries: [] }, asRoot)).team!.teamId;
    opaqueTokenId = (await clients.admin.mintToken({ name: "reporting", scopes: ["kafka:read"] }, asRoot)).record!.tokenId;
  });

  afterAll(async () => {
    envoy?.close();
    await fixture?.server.stop();
    await idp.stop();
  });

  const idpToken = (claims: object) => idp.sign(idpKey, { aud: AUDIENCE, scope: "kafka:read", ...claims });

  const orchestratorToken = (claims: object) => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ scope: "kafka:read", libs: [], ...claims })
      .setProtectedHeader({ alg: "ES256", kid: orchestratorKey.kid })
      .setIssuer(ORCHESTRATOR)
      .setIssuedAt(now)
      .setExpirationTime(now + 300)
      .sign(orchestratorKey.privateKey);
  };

  /** What the upstream behind Envoy sees, and what Authorize answers, for one token. */
  async function presented(token: string) {
    const incoming = { authorization: `Bearer ${token}`, ...SPOOFED };
    const checked = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers: incoming });
    expect(checked.status?.code).toBe(0);
    const authorized = await clients.authorization.authorize({
      authorization: `Bearer ${token}`,
      resource: "GET /api/kafka/topics",
    });
    expect(authorized.decision).toBe(Decision.ALLOW);
    return { upstream: upstreamHeaders(incoming, checked.ok_response!), metadata: metadataOf(checked), principal: authorized.principal };
  }

  it("namespaces an IdP token's sub team:<id> and jti tok_… by the issuer's alias, in Check headers and the Authorize principal", async () => {
    const { upstream, metadata, principal } = await presented(await idpToken({ sub: `team:${teamId}`, jti: opaqueTokenId }));

    expect(upstream["x-auth-subject"]).toBe(`jwt:corp-idp:team:${teamId}`);
    expect(upstream["x-auth-token-id"]).toBe(`jwt:corp-idp:${opaqueTokenId}`);
    expect(upstream["x-auth-credential-type"]).toBe("jwt");
    expect(upstream["x-auth-issuer"]).toBe("corp-idp");
    expect(metadata).toMatchObject({ subject: `jwt:corp-idp:team:${teamId}`, credential_type: "jwt", issuer: "corp-idp" });
    expect(principal).toMatchObject({
      subject: `jwt:corp-idp:team:${teamId}`,
      tokenId: `jwt:corp-idp:${opaqueTokenId}`,
      credentialType: CredentialType.JWT,
      issuer: "corp-idp",
    });
  });

  it("namespaces a per-request token's sub and jti by its issuer's alias too", async () => {
    const { upstream, principal } = await presented(await orchestratorToken({ sub: `token:${opaqueTokenId}`, jti: opaqueTokenId }));

    expect(upstream).toMatchObject({
      "x-auth-subject": `jwt:orchestrator:token:${opaqueTokenId}`,
      "x-auth-token-id": `jwt:orchestrator:${opaqueTokenId}`,
      "x-auth-credential-type": "request_token",
      "x-auth-issuer": "orchestrator",
    });
    expect(principal).toMatchObject({ credentialType: CredentialType.REQUEST_TOKEN, issuer: "orchestrator" });
  });

  it("removes the client's token id header when an IdP token carries no jti", async () => {
    const { upstream, principal } = await presented(await idpToken({ sub: "alice" }));

    expect(upstream["x-auth-subject"]).toBe("jwt:corp-idp:alice");
    expect(upstream["x-auth-token-id"]).toBeUndefined();
    expect(principal?.tokenId).toBe("");
  });

  it("gives Portcullis's own credentials their own forms and no issuer header", async () => {
    const { upstream, principal } = await presented(fixture.tokens.reader);

    expect(upstream["x-auth-subject"]).toMatch(/^token:tok_/);
    expect(upstream["x-auth-credential-type"]).toBe("opaque");
    expect(upstream["x-auth-issuer"]).toBeUndefined();
    expect(principal?.issuer).toBe("");
  });

  it("never hands on an external subject or token id in the token:, team: or tok_ forms, whatever the IdP put in them", async () => {
    for (const sub of [`team:${teamId}`, `token:${opaqueTokenId}`, opaqueTokenId, "jwt:other-idp:alice"]) {
      const jti = randomBytes(4).toString("hex");
      const { upstream } = await presented(await idpToken({ sub, jti: `tok_${jti}` }));
      expect(upstream["x-auth-subject"]).toBe(`jwt:corp-idp:${sub}`);
      expect(upstream["x-auth-token-id"]).toBe(`jwt:corp-idp:tok_${jti}`);
    }
  });
});
