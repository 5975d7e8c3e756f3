import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision, Denial } from "../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import { BACKENDS, EXAMPLE_CONFIG, startOnBackend } from "../support/backends.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import { createEnvoyClient, type EnvoyClient } from "../support/envoy-client.js";
import type { PortcullisProcess } from "../support/portcullis-process.js";

/** Names every plain JavaScript object inherits; a caller may send them as ids. */
const INHERITED_NAMES = ["__proto__", "constructor", "toString"];
const b64 = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

describe.each(BACKENDS)("ids named like inherited object members, on the %s store", (backend) => {
  let server: PortcullisProcess;
  let clients: Clients;
  let envoy: EnvoyClient;
  let asRoot: ReturnType<typeof bearer>;
  let teamKid: string;

  beforeAll(async () => {
    server = await startOnBackend(backend, { env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
    clients = createClients(server.url);
    envoy = createEnvoyClient(server.url);
    asRoot = bearer(await server.rootToken());
    teamKid = (await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot)).key!.kid;
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
  });

  /** A team token with a signature nobody made: anyone can write one. */
  const forged = (kid: string, sub: string) => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: "portcullis", aud: "portcullis", sub, typ: "team", jti: "j", iat: now, exp: now + 300, scope: "kafka:read" };
    return `${b64({ alg: "HS256", typ: "JWT", kid })}.${b64(claims)}.${b64("not-a-signature")}`;
  };

  const forgeries = () => [
    ...INHERITED_NAMES.map((name) => ({ name: `kid ${name}`, token: forged(name, "team:abc"), reason: "unknown_key" })),
    ...INHERITED_NAMES.map((name) => ({ name: `sub team:${name}`, token: forged(teamKid, `team:${name}`), reason: "bad_signature" })),
  ];

  it("denies forged team tokens naming inherited members through Authorize, ResolveLibraries and Envoy Check", async () => {
    for (const { name, token, reason } of forgeries()) {
      const decided = await clients.authorization.authorize({
        authorization: `Bearer ${token}`,
        resource: "GET /api/kafka/topics",
        requiredScope: "kafka:read",
      });
      expect([name, decided.decision, decided.denial, decided.reason]).toEqual([name, Decision.DENY, Denial.UNAUTHENTICATED, reason]);
      const resolved = await rejectionOf(clients.authorization.resolveLibraries({ authorization: `Bearer ${token}` }));
      expect([name, resolved.code]).toEqual([name, Code.Unauthenticated]);
      const checked = await envoy.check({ method: "GET", path: "/api/kafka/topics", headers: { authorization: `Bearer ${token}` } });
      expect([name, checked.http_response, checked.denied_response?.status?.code]).toEqual([name, "denied_response", "Unauthorized"]);
    }
  });

  it("retires no key for a kid named like an inherited member and keeps answering every later call", async () => {
    for (const kid of INHERITED_NAMES) {
      expect((await rejectionOf(clients.admin.retireSigningKey({ kid }, asRoot))).code).toBe(Code.NotFound);
    }
    const created = await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
    const { keys } = await clients.admin.listSigningKeys({}, asRoot);
    expect(keys.map((key) => key.kid)).toContain(created.key!.kid);
    expect(keys.every((key) => key.retiredAt === undefined)).toBe(true);
    const { team } = await clients.admin.createTeam({ name: "after", libraries: ["lib-1"] }, asRoot);
    expect((await clients.admin.getTeam({ teamId: team!.teamId }, asRoot)).team?.name).toBe("after");
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "after" }, asRoot);
    const decided = await clients.authorization.authorize({
      authorization: `Bearer ${minted.token}`,
      resource: "GET /api/kafka/topics",
      requiredScope: "kafka:read",
    });
    expect([decided.decision, decided.reason]).toEqual([Decision.ALLOW, "ok"]);
  });

  it.each([
    ["empty", ""],
    ["with path characters", "../../etc/passwd"],
    ["with a control character", "key\nid"],
    ["1 KiB long", "k".repeat(1024)],
  ])("refuses to retire a kid %s as InvalidArgument naming the field, without echoing it", async (_name, kid) => {
    const refused = await rejectionOf(clients.admin.retireSigningKey({ kid }, asRoot));
    expect([refused.code, refused.rawMessage.startsWith("kid: ")]).toEqual([Code.InvalidArgument, true]);
    if (kid !== "") expect(refused.rawMessage).not.toContain(kid);
  });

  it.each(INHERITED_NAMES)("refuses team id %s as InvalidArgument naming the field", async (teamId) => {
    const refused = await rejectionOf(clients.admin.getTeam({ teamId }, asRoot));
    expect([refused.code, refused.rawMessage]).toEqual([Code.InvalidArgument, "team_id: must be a team's UUID"]);
  });
});
