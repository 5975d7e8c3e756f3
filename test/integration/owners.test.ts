import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Decision, Denial } from "../../gen/portcullis/v1/authorization_pb.js";
import { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, decide, rejectionOf, type Clients } from "../support/clients.js";
import { createEnvoyClient, headerNamed, type EnvoyClient } from "../support/envoy-client.js";
import { eventually } from "../support/eventually.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startReplicas, type Replicas } from "../support/replicas.js";

/** Generous: propagation is measured by the benchmark, not asserted here. */
const PROPAGATION_BOUND_MS = 5000;

const ownersClient = (url: string): Client<typeof OwnerService> => createClient(OwnerService, createGrpcTransport({ baseUrl: url }));

/** Decides a few times, so the replica surely holds the credential and its owner's state in its caches. */
async function warm(clients: Clients, token: string): Promise<void> {
  for (let round = 0; round < 3; round++) expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
}

async function reasonOnceSettled(clients: Clients, token: string, decision: Decision): Promise<string> {
  await eventually(async () => (await decide(clients, token, "kafka:read")).decision === decision, PROPAGATION_BOUND_MS);
  return (await decide(clients, token, "kafka:read")).reason;
}

/** Envoy's Check of the same question: the HTTP status of a denial, or the identity headers of an allow. */
async function checked(envoy: EnvoyClient, token: string): Promise<{ status: string; body?: string; owner?: string }> {
  const response = await envoy.check({
    method: "GET",
    path: "/api/store-test",
    headers: { authorization: `Bearer ${token}` },
    contextExtensions: { required_scope: "kafka:read" },
  });
  if (response.denied_response !== undefined) {
    return { status: String(response.denied_response.status?.code), body: response.denied_response.body };
  }
  return { status: "OK", owner: headerNamed(response.ok_response?.headers ?? [], "x-auth-owner")?.header.value };
}

const uniqueOwner = (name: string) => `${name}-${randomBytes(4).toString("hex")}@example.com`;

describe("owners on two replicas of one Redis, caches on", () => {
  let replicas: Replicas;
  let a: Clients;
  let b: Clients;
  let ownersA: Client<typeof OwnerService>;
  let envoyB: EnvoyClient;
  let asRoot: ReturnType<typeof bearer>;

  beforeAll(async () => {
    replicas = await startReplicas(2);
    asRoot = bearer(replicas.rootToken);
    a = createClients(replicas.servers[0]!.url);
    b = createClients(replicas.servers[1]!.url);
    ownersA = ownersClient(replicas.servers[0]!.url);
    envoyB = createEnvoyClient(replicas.servers[1]!.url);
    await a.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
  });
  afterAll(async () => {
    envoyB?.close();
    await replicas?.stop();
  });

  async function ownedCredentials(owner: string) {
    const opaque = await a.admin.mintToken({ scopes: ["kafka:read"], name: "laptop", owner }, asRoot);
    const { team } = await a.admin.createTeam({ name: `team-${randomBytes(3).toString("hex")}`, libraries: ["lib-a"], owner }, asRoot);
    const teamJwt = await a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"], name: "ci" }, asRoot);
    expect(opaque.record!.owner).toBe(owner);
    expect(team!.owner).toBe(owner);
    expect(teamJwt.record!.owner).toBe(owner);
    return { opaque: opaque.token, opaqueId: opaque.record!.tokenId, teamJwt: teamJwt.token };
  }

  it("denies on B every token and team JWT of an owner A deactivated (owner_disabled, 401), others unaffected, until A reactivates it", async () => {
    const owner = uniqueOwner("alice");
    const mine = await ownedCredentials(owner);
    const others = await ownedCredentials(uniqueOwner("bob"));
    const unowned = (await a.admin.mintToken({ scopes: ["kafka:read"], name: "service" }, asRoot)).token;
    for (const token of [mine.opaque, mine.teamJwt, others.opaque, others.teamJwt, unowned]) await warm(b, token);
    expect(await checked(envoyB, mine.opaque)).toEqual({ status: "OK", owner });

    const { owner: deactivated } = await ownersA.deactivateOwner({ owner }, asRoot);
    expect(deactivated).toMatchObject({ owner, active: false, ownedTokens: 2, ownedTeams: 1 });

    for (const token of [mine.opaque, mine.teamJwt]) {
      expect(await reasonOnceSettled(b, token, Decision.DENY)).toBe("owner_disabled");
      const answer = await b.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/store-test", requiredScope: "kafka:read" });
      expect(answer.denial).toBe(Denial.UNAUTHENTICATED);
      expect(answer.principal?.owner).toBe(owner);
      expect(answer.libraries).toEqual([]);
      expect(await checked(envoyB, token)).toEqual({ status: "Unauthorized", body: '{"error":"owner_disabled"}' });
    }
    const refusals = replicas.servers[1]!
      .output()
      .split("\n")
      .filter((line) => line.includes('"log":"decision"') && line.includes('"reason":"owner_disabled"'))
      .map((line) => JSON.parse(line) as { principal?: { owner?: string }; credentialType?: string });
    expect(refusals.map((line) => line.principal?.owner)).toContain(owner);
    expect(new Set(refusals.map((line) => line.credentialType))).toEqual(new Set(["opaque", "team_token"]));
    for (const token of [others.opaque, others.teamJwt, unowned]) expect(await decide(b, token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });

    await ownersA.reactivateOwner({ owner }, asRoot);
    for (const token of [mine.opaque, mine.teamJwt]) expect(await reasonOnceSettled(b, token, Decision.ALLOW)).toBe("ok");
    expect(await checked(envoyB, mine.teamJwt)).toEqual({ status: "OK", owner });
    const { owner: shown } = await ownersClient(replicas.servers[1]!.url).getOwner({ owner }, asRoot);
    expect(shown).toMatchObject({ owner, active: true, changedBy: expect.stringMatching(/^tok_/) });
  });

  it("shows the owner in the principal of an Authorize answer", async () => {
    const owner = uniqueOwner("carol");
    const { opaque } = await ownedCredentials(owner);
    const answer = await b.authorization.authorize({ authorization: `Bearer ${opaque}`, resource: "GET /api/store-test", requiredScope: "kafka:read" });
    expect(answer.principal?.owner).toBe(owner);
  });

  it("denies on B a token A deactivated (token_inactive) and allows it again once A reactivated it", async () => {
    const { opaque, opaqueId } = await ownedCredentials(uniqueOwner("dave"));
    await warm(b, opaque);
    const { record } = await a.admin.deactivateToken({ tokenId: opaqueId }, asRoot);
    expect(record).toMatchObject({ active: false });
    expect(await reasonOnceSettled(b, opaque, Decision.DENY)).toBe("token_inactive");
    expect(await checked(envoyB, opaque)).toEqual({ status: "Unauthorized", body: '{"error":"token_inactive"}' });
    expect((await rejectionOf(a.admin.deactivateToken({ tokenId: opaqueId }, asRoot))).rawMessage).toMatch(/already deactivated/);
    await a.admin.reactivateToken({ tokenId: opaqueId }, asRoot);
    expect(await reasonOnceSettled(b, opaque, Decision.ALLOW)).toBe("ok");
  });

  it("refuses an owner id two parsers could read differently", async () => {
    const refused = ["alice smith", "ålice", "alice\n", "-alice", "a".repeat(129), "{alice}", "alice:1", "ａlice"];
    for (const owner of ["", ...refused]) {
      expect((await rejectionOf(ownersA.deactivateOwner({ owner }, asRoot))).rawMessage).toMatch(/^owner: must be an owner id/);
    }
    for (const owner of refused) {
      expect((await rejectionOf(a.admin.mintToken({ scopes: ["kafka:read"], owner }, asRoot))).rawMessage).toMatch(/^owner: must be an owner id/);
      expect((await rejectionOf(a.admin.createTeam({ name: "t", libraries: [], owner }, asRoot))).rawMessage).toMatch(/^owner: must be an owner id/);
    }
  });

  it("writes audit lines that name the owner changed, and who changed it", async () => {
    const owner = uniqueOwner("erin");
    await ownersA.deactivateOwner({ owner }, asRoot);
    await ownersA.reactivateOwner({ owner }, asRoot);
    const lines = replicas.servers[0]!.output().split("\n").filter((line) => line.includes('"log":"audit"') && line.includes(owner));
    const audited = lines.map((line) => JSON.parse(line) as { event: string; owner: string; outcome: string; caller: { tokenId?: string } });
    expect(audited.map((line) => [line.event, line.owner, line.outcome])).toEqual([
      ["owner.deactivate", owner, "success"],
      ["owner.reactivate", owner, "success"],
    ]);
    expect(audited[0]!.caller.tokenId).toMatch(/^tok_/);
  });
});

describe("owners on the embedded store", () => {
  let server: PortcullisProcess;
  let clients: Clients;
  let asRoot: ReturnType<typeof bearer>;

  beforeAll(async () => {
    server = await startPortcullisProcess();
    asRoot = bearer(await server.rootToken());
    clients = createClients(server.url);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("denies an owner's token while the owner is deactivated, and allows it again once reactivated", async () => {
    const owner = uniqueOwner("frank");
    const { token } = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "laptop", owner }, asRoot);
    await warm(clients, token);
    const owners = ownersClient(server.url);
    await owners.deactivateOwner({ owner }, asRoot);
    expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "owner_disabled" });
    await owners.reactivateOwner({ owner }, asRoot);
    expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
  });
});
