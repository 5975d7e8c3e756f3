import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { OwnerService } from "../../../gen/portcullis/v1/owners_pb.js";
import { bearer, createClients, type Clients } from "../../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { generateTestKey, OidcProvider, type TestKey } from "../../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";

describe("an external issuer's owner_claim", () => {
  const mapped = new OidcProvider("oidc");
  const unmapped = new OidcProvider("oidc", "/plain");
  let key: TestKey;
  let plainKey: TestKey;
  let server: InProcessPortcullis;
  let clients: Clients;

  beforeAll(async () => {
    key = await generateTestKey("ES256", "owners-1");
    plainKey = await generateTestKey("ES256", "plain-1");
    await mapped.start();
    await unmapped.start();
    mapped.publish(key);
    unmapped.publish(plainKey);
    server = await startInProcess({
      PORTCULLIS_JWT_ISSUERS: JSON.stringify([
        { issuer: mapped.issuer, alias: "corp", audiences: [AUDIENCE], owner_claim: "user_id" },
        { issuer: unmapped.issuer, alias: "plain", audiences: [AUDIENCE] },
      ]),
    });
    clients = createClients(server.url);
  });
  afterAll(async () => {
    await server?.stop();
    await mapped.stop();
    await unmapped.stop();
  });

  const authorize = (token: string) =>
    clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/kafka/topics", requiredScope: "kafka:read" });

  it("names the claim's owner in the principal, and refuses the user's JWTs while that owner is deactivated", async () => {
    const token = await mapped.sign(key, { aud: AUDIENCE, scope: "kafka:read", user_id: "u-1234" });
    expect(await authorize(token)).toMatchObject({ decision: Decision.ALLOW, principal: { owner: "u-1234", issuer: "corp" } });
    const owners = createClient(OwnerService, createGrpcTransport({ baseUrl: server.url }));
    const asRoot = bearer(await server.rootToken());
    await owners.deactivateOwner({ owner: "u-1234" }, asRoot);
    expect(await authorize(token)).toMatchObject({ decision: Decision.DENY, reason: "owner_disabled" });
    await owners.reactivateOwner({ owner: "u-1234" }, asRoot);
    expect(await authorize(token)).toMatchObject({ decision: Decision.ALLOW, reason: "ok" });
  });

  it.each([
    ["without the claim", {}, "missing_claim"],
    ["with an empty one", { user_id: "" }, "bad_claim"],
    ["with one that is not a string", { user_id: 1234 }, "bad_claim"],
    ["with one that is not an owner id", { user_id: "u 1234" }, "bad_claim"],
    ["with a non-ASCII one", { user_id: "ü-1234" }, "bad_claim"],
  ])("refuses a token %s", async (_case, claims, reason) => {
    const token = await mapped.sign(key, { aud: AUDIENCE, scope: "kafka:read", ...claims });
    expect(await authorize(token)).toMatchObject({ decision: Decision.DENY, reason });
  });

  it("gives the JWTs of an issuer without owner_claim no owner, whatever their claims say", async () => {
    const token = await unmapped.sign(plainKey, { aud: AUDIENCE, scope: "kafka:read", user_id: "u-1234" });
    const answer = await authorize(token);
    expect(answer).toMatchObject({ decision: Decision.ALLOW });
    expect(answer.principal?.owner).toBe("");
  });
});
