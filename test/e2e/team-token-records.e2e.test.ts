import { toJsonString } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import {
  GetTokenResponseSchema,
  ListTokensResponseSchema,
  TokenKind,
  type TokenRecord,
} from "../../gen/portcullis/v1/token_admin_pb.js";
import { BACKENDS, startOnBackend } from "../support/backends.js";
import { bearer, createClients, rejectionOf, type Clients } from "../support/clients.js";
import type { PortcullisProcess } from "../support/portcullis-process.js";

describe.each(BACKENDS)("team tokens as token records on the %s store", (backend) => {
  let server: PortcullisProcess;
  let clients: Clients;
  let asRoot: ReturnType<typeof bearer>;
  /** Every team JWT this suite has minted, for the leak checks. */
  const jwts: string[] = [];

  beforeAll(async () => {
    server = await startOnBackend(backend);
    clients = createClients(server.url);
    asRoot = bearer(await server.rootToken());
    await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
  });
  afterAll(async () => {
    await server?.stop();
  });

  const newTeam = async () => (await clients.admin.createTeam({ name: "payments", libraries: ["lib-a"] }, asRoot)).team!.teamId;
  const mintFor = async (teamId: string) => {
    const minted = await clients.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId, scopes: ["kafka:read"], name: "ci" }, asRoot);
    jwts.push(minted.token);
    return { jwt: minted.token, record: minted.record! };
  };
  const authorize = (jwt: string) =>
    clients.authorization.authorize({ authorization: `Bearer ${jwt}`, resource: "GET /api/kafka/topics", requiredScope: "kafka:read" });
  const listed = async (tokenId: string) =>
    (await clients.admin.listTokens({}, asRoot)).tokens.find((token) => token.tokenId === tokenId);
  const shape = (record: TokenRecord | undefined) => ({
    tokenId: record?.tokenId,
    kind: record?.kind,
    teamId: record?.teamId,
    active: record?.active,
    revoked: record?.revokedAt !== undefined,
    libraries: record?.allowedLibraries,
  });

  it("gives a team token a tok_ id that is its jti, which GetToken and ListTokens know with its kind", async () => {
    const teamId = await newTeam();
    const { jwt, record } = await mintFor(teamId);
    expect(record.tokenId).toMatch(/^tok_[A-Za-z0-9_-]{22}$/);
    expect(decodeJwt(jwt).jti).toBe(record.tokenId);
    const expected = { tokenId: record.tokenId, kind: TokenKind.TEAM_JWT, teamId, active: true, revoked: false, libraries: ["lib-a"] };
    expect(shape(record)).toEqual(expected);
    expect(shape((await clients.admin.getToken({ tokenId: record.tokenId }, asRoot)).record)).toEqual(expected);
    expect(shape(await listed(record.tokenId))).toEqual(expected);
    expect((await clients.admin.getTeam({ teamId }, asRoot)).team?.activeTokenId).toBe(record.tokenId);
    const allowed = await authorize(jwt);
    expect([allowed.decision, allowed.principal?.tokenId]).toEqual([Decision.ALLOW, record.tokenId]);

    const opaque = await clients.admin.mintToken({ scopes: ["kafka:read"] }, asRoot);
    expect([(await listed(opaque.record!.tokenId))?.kind, (await listed(opaque.record!.tokenId))?.teamId]).toEqual([TokenKind.OPAQUE, ""]);
  });

  it("revokes a team token: the JWT is denied token_revoked at once, the team has no token, a second revoke is NotFound", async () => {
    const teamId = await newTeam();
    const { jwt, record } = await mintFor(teamId);

    const revoked = (await clients.admin.revokeToken({ tokenId: record.tokenId }, asRoot)).record;
    expect(shape(revoked)).toMatchObject({ tokenId: record.tokenId, kind: TokenKind.TEAM_JWT, active: false, revoked: true });
    const denied = await authorize(jwt);
    expect([denied.decision, denied.reason]).toEqual([Decision.DENY, "token_revoked"]);
    expect((await clients.admin.getTeam({ teamId }, asRoot)).team?.activeTokenId).toBe("");
    expect(shape(await listed(record.tokenId))).toMatchObject({ active: false, revoked: true });

    const again = await rejectionOf(clients.admin.revokeToken({ tokenId: record.tokenId }, asRoot));
    expect(again.code).toBe(Code.NotFound);

    // The team mints again from no token at all; the revoked one stays refused.
    const next = await mintFor(teamId);
    expect((await authorize(next.jwt)).decision).toBe(Decision.ALLOW);
    expect((await authorize(jwt)).reason).toBe("token_revoked");
  });

  it("shows a team token another mint replaced as inactive but not revoked, denied token_rotated", async () => {
    const teamId = await newTeam();
    const first = await mintFor(teamId);
    const second = await mintFor(teamId);
    const replaced = (await clients.admin.getToken({ tokenId: first.record.tokenId }, asRoot)).record;
    expect(shape(replaced)).toMatchObject({ active: false, revoked: false });
    expect((await authorize(first.jwt)).reason).toBe("token_rotated");

    // Revoking the replaced one leaves the team's current token in force.
    await clients.admin.revokeToken({ tokenId: first.record.tokenId }, asRoot);
    expect((await authorize(second.jwt)).decision).toBe(Decision.ALLOW);
    expect((await clients.admin.getTeam({ teamId }, asRoot)).team?.activeTokenId).toBe(second.record.tokenId);
  });

  it("shows a deactivated team's token as inactive", async () => {
    const teamId = await newTeam();
    const { record } = await mintFor(teamId);
    await clients.admin.deactivateTeam({ teamId }, asRoot);
    expect(shape((await clients.admin.getToken({ tokenId: record.tokenId }, asRoot)).record)).toMatchObject({ active: false, revoked: false });
  });

  it("never shows a team JWT in list or get responses or in the log", async () => {
    const { record } = await mintFor(await newTeam());
    const list = toJsonString(ListTokensResponseSchema, await clients.admin.listTokens({}, asRoot));
    const get = toJsonString(GetTokenResponseSchema, await clients.admin.getToken({ tokenId: record.tokenId }, asRoot));
    for (const jwt of jwts) {
      const signature = jwt.split(".")[2]!;
      for (const text of [list, get, server.output()]) expect(text).not.toContain(signature);
    }
  });
});
