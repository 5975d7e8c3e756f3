import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, Denial } from "../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients } from "./support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "./support/portcullis-process.js";

describe("a freshly started server on the embedded store", () => {
  let server: PortcullisProcess;
  beforeAll(async () => {
    server = await startPortcullisProcess();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("mints with the bootstrap root token and allows the minted token its scope", async () => {
    const { admin, authorization } = createClients(server.url);
    const minted = await admin.mintToken({ scopes: ["kafka:read"], name: "smoke" }, bearer(await server.rootToken()));
    const allowed = await authorization.authorize({
      authorization: `Bearer ${minted.token}`,
      resource: "GET /api/kafka/topics",
      requiredScope: "kafka:read",
    });
    expect(allowed.decision).toBe(Decision.ALLOW);
    const denied = await authorization.authorize({
      authorization: `Bearer ${minted.token}`,
      resource: "GET /api/kafka/topics",
      requiredScope: "kafka:write",
    });
    expect([denied.decision, denied.denial, denied.reason]).toEqual([Decision.DENY, Denial.FORBIDDEN, "insufficient_scope"]);
  });
});
