import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { Code } from "@connectrpc/connect";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { CredentialType, Decision, Denial } from "../../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm, SigningKeyState } from "../../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, type Clients } from "../../support/clients.js";
import { mintTeamToken } from "../../support/jwt-fixture.js";
import { TEST_REDIS_URL } from "../../support/redis.js";
import { twoReplicasOfOneRedis } from "../../support/two-replicas.js";

describe("team tokens across two replicas on one Redis", () => {
  const two = twoReplicasOfOneRedis();

  const authorize = (clients: Clients, token: string) =>
    clients.authorization.authorize({ authorization: `Bearer ${token}`, resource: "GET /api/kafka/topics", requiredScope: "kafka:read" });
  const mintFor = async (teamId: string) => (await mintTeamToken(two.a.admin, two.replicas.rootToken, teamId)).token;

  it("allows a minted team token on the other replica with the team's libraries, until it is rotated, reassigned and deactivated", async () => {
    await two.a.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, two.asRoot);
    const { team } = await two.a.admin.createTeam({ name: "payments", libraries: ["lib-a"] }, two.asRoot);
    const teamId = team!.teamId;

    const first = await mintFor(teamId);
    const allowed = await authorize(two.b, first);
    expect([allowed.decision, allowed.reason, allowed.libraries]).toEqual([Decision.ALLOW, "ok", ["lib-a"]]);
    expect(allowed.principal).toMatchObject({ subject: `team:${teamId}`, credentialType: CredentialType.TEAM_TOKEN, name: "payments" });

    const second = await mintFor(teamId);
    const rotated = await authorize(two.b, first);
    expect([rotated.decision, rotated.denial, rotated.reason]).toEqual([Decision.DENY, Denial.UNAUTHENTICATED, "token_rotated"]);
    expect((await authorize(two.b, second)).decision).toBe(Decision.ALLOW);

    await two.a.admin.assignLibraries({ teamId, libraries: ["lib-b", "lib-c"] }, two.asRoot);
    expect((await two.b.authorization.resolveLibraries({ authorization: `Bearer ${second}` })).libraries).toEqual(["lib-b", "lib-c"]);

    await two.b.admin.deactivateTeam({ teamId }, two.asRoot);
    const deactivated = await authorize(two.a, second);
    expect([deactivated.decision, deactivated.reason]).toEqual([Decision.DENY, "team_inactive"]);
    expect((await two.a.admin.getTeam({ teamId }, two.asRoot)).team?.active).toBe(false);
  });

  it("refuses a team token revoked on one replica at once on the other", async () => {
    await two.a.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, two.asRoot);
    const { team } = await two.a.admin.createTeam({ name: "revoked", libraries: ["lib-r"] }, two.asRoot);
    const minted = await two.a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"] }, two.asRoot);
    expect((await authorize(two.b, minted.token)).decision).toBe(Decision.ALLOW);

    await two.a.admin.revokeToken({ tokenId: minted.record!.tokenId }, two.asRoot);
    const denied = await authorize(two.b, minted.token);
    expect([denied.decision, denied.reason]).toEqual([Decision.DENY, "token_revoked"]);
    await expect(two.b.admin.revokeToken({ tokenId: minted.record!.tokenId }, two.asRoot)).rejects.toMatchObject({ code: Code.NotFound });
  });

  it("publishes ES256 keys at /.well-known/jwks.json, verifies with a verify-only key and rejects a retired one", async () => {
    const { key } = await two.a.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.ES256 }, two.asRoot);
    const { team } = await two.a.admin.createTeam({ name: "search", libraries: ["lib-s"] }, two.asRoot);
    const token = await mintFor(team!.teamId);
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: "ES256", kid: key!.kid });

    const jwks = (await (await fetch(`${two.replicas.servers[1]!.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((published) => published.kid)).toContain(key!.kid);
    const verified = await jwtVerify(token, createLocalJWKSet(jwks as never));
    expect(verified.payload).toMatchObject({ sub: `team:${team!.teamId}`, typ: "team", aud: "portcullis", iss: "portcullis" });
    expect(JSON.stringify(jwks)).not.toMatch(/"d"/);

    await two.a.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, two.asRoot);
    const states = (await two.b.admin.listSigningKeys({}, two.asRoot)).keys;
    expect(states.find((listed) => listed.kid === key!.kid)?.state).toBe(SigningKeyState.VERIFY_ONLY);
    expect((await authorize(two.b, token)).decision).toBe(Decision.ALLOW);

    await two.b.admin.retireSigningKey({ kid: key!.kid }, two.asRoot);
    const retired = await authorize(two.a, token);
    expect([retired.decision, retired.reason]).toEqual([Decision.DENY, "key_retired"]);
    const afterRetire = (await (await fetch(`${two.replicas.servers[0]!.url}/.well-known/jwks.json`)).json()) as { keys: { kid: string }[] };
    expect(afterRetire.keys.map((published) => published.kid)).not.toContain(key!.kid);
  });

  it("never shows signing key material or team tokens in responses or logs", async () => {
    const listed = JSON.stringify((await two.a.admin.listSigningKeys({}, two.asRoot)).keys, (_key, value: unknown) =>
      typeof value === "bigint" ? value.toString() : value,
    );
    const { team } = await two.a.admin.createTeam({ name: "audit", libraries: [] }, two.asRoot);
    const token = await mintFor(team!.teamId);
    await authorize(two.b, token);
    const client = new Redis(TEST_REDIS_URL);
    try {
      const kids = await client.zrange(`${two.replicas.prefix}signing-keys`, 0, -1);
      expect(kids.length).toBeGreaterThan(0);
      for (const kid of kids) {
        const { secret } = JSON.parse((await client.hget(`${two.replicas.prefix}signing-key:${kid}`, "data"))!) as { secret: string };
        const material = secret.startsWith("{") ? (JSON.parse(secret) as { d: string }).d : secret;
        expect(listed).not.toContain(material);
        for (const replica of two.replicas.servers) expect(replica.output()).not.toContain(material);
      }
    } finally {
      client.disconnect();
    }
    for (const replica of two.replicas.servers) expect(replica.output()).not.toContain(token);
  });

  it("lets only a root credential administer teams and keys, not a team token", async () => {
    const { team } = await two.a.admin.createTeam({ name: "not-root", libraries: [] }, two.asRoot);
    await two.a.admin.createSigningKey({}, two.asRoot);
    const teamToken = await mintFor(team!.teamId);
    await expect(two.a.admin.createTeam({ name: "x" }, bearer(teamToken))).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(two.b.admin.listSigningKeys({}, bearer(teamToken))).rejects.toMatchObject({ code: Code.PermissionDenied });
    await expect(two.b.admin.listTeams({}, bearer("garbage"))).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("refuses to mint for a missing team, without an active key, or with per-token libraries", async () => {
    const { team } = await two.a.admin.createTeam({ name: "refusals", libraries: [] }, two.asRoot);
    await expect(
      two.a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: crypto.randomUUID(), scopes: ["kafka:read"] }, two.asRoot),
    ).rejects.toThrow(/not found/);
    await expect(
      two.a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"], allowedLibraries: ["x"] }, two.asRoot),
    ).rejects.toThrow(/AssignLibraries/);
    await expect(two.a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: "../etc", scopes: ["kafka:read"] }, two.asRoot)).rejects.toThrow(
      /UUID/,
    );
    const active = (await two.a.admin.listSigningKeys({}, two.asRoot)).keys.find((listed) => listed.state === SigningKeyState.ACTIVE);
    await two.a.admin.retireSigningKey({ kid: active!.kid }, two.asRoot);
    await expect(two.a.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"] }, two.asRoot)).rejects.toThrow(
      /no active signing key/,
    );
  });
});
