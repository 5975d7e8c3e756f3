import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, createClients, decide, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { mintTeamToken, teamWithToken } from "../support/jwt-fixture.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { twoReplicasOfOneRedis } from "../support/two-replicas.js";

/** Generous: propagation is measured by the benchmark, not asserted here. */
const PROPAGATION_BOUND_MS = 5000;

/** Decides a few times, so the replica surely holds the credential in its caches. */
async function warm(clients: Clients, token: string): Promise<void> {
  for (let round = 0; round < 3; round++) expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
}

/** Waits until `clients` denies `token`, and answers the reason it then gives. */
async function deniedReason(clients: Clients, token: string): Promise<string> {
  await eventually(async () => (await decide(clients, token, "kafka:read")).decision === Decision.DENY, PROPAGATION_BOUND_MS);
  return (await decide(clients, token, "kafka:read")).reason;
}

describe("credential caches on two replicas of one Redis", () => {
  const two = twoReplicasOfOneRedis();
  const root = () => two.replicas.rootToken;

  it("denies on B an opaque token B holds in its cache once A revoked it", async () => {
    const minted = await two.a.admin.mintToken({ scopes: ["kafka:read"], name: "doomed" }, two.asRoot);
    await warm(two.b, minted.token);
    await two.a.admin.revokeToken({ tokenId: minted.record!.tokenId }, two.asRoot);
    expect(await deniedReason(two.b, minted.token)).toBe("token_revoked");
  });

  it("denies on B a team token B holds in its cache once A minted its replacement", async () => {
    const { teamId, token } = await teamWithToken(two.a.admin, root());
    await warm(two.b, token);
    const replacement = await mintTeamToken(two.a.admin, root(), teamId);
    expect(await deniedReason(two.b, token)).toBe("token_rotated");
    expect((await decide(two.b, replacement.token, "kafka:read")).decision).toBe(Decision.ALLOW);
  });

  it("denies on B a team token B holds in its cache once A deactivated its team", async () => {
    const { teamId, token } = await teamWithToken(two.a.admin, root());
    await warm(two.b, token);
    await two.a.admin.deactivateTeam({ teamId }, two.asRoot);
    expect(await deniedReason(two.b, token)).toBe("team_inactive");
  });

  it("denies on B a team token B holds in its cache once A revoked it", async () => {
    const { token, tokenId } = await teamWithToken(two.a.admin, root());
    await warm(two.b, token);
    await two.a.admin.revokeToken({ tokenId }, two.asRoot);
    expect(await deniedReason(two.b, token)).toBe("token_revoked");
  });

  it("denies on B a team token B holds in its cache once A retired its signing key", async () => {
    const { token, kid } = await teamWithToken(two.a.admin, root());
    await warm(two.b, token);
    await two.a.admin.retireSigningKey({ kid }, two.asRoot);
    expect(await deniedReason(two.b, token)).toBe("key_retired");
  });

  it("gives B a team's new libraries once A assigned them", async () => {
    const { teamId, token } = await teamWithToken(two.a.admin, root());
    await warm(two.b, token);
    await two.a.admin.assignLibraries({ teamId, libraries: ["lib-new"] }, two.asRoot);
    await eventually(
      async () => (await two.b.authorization.resolveLibraries({ authorization: `Bearer ${token}` })).libraries.join() === "lib-new",
      PROPAGATION_BOUND_MS,
    );
  });
});

describe("a replica whose invalidation subscription was cut", () => {
  let redis: OwnRedis;
  let admin: Redis;
  let replicaA: PortcullisProcess;
  let replicaB: PortcullisProcess;
  let a: Clients;
  let b: Clients;
  const rootToken = randomBytes(32).toString("base64url");
  const asRoot = bearer(rootToken);

  beforeAll(async () => {
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
    // Each replica its own Redis user, so the test can take B's right to subscribe away and keep A's.
    await admin.call("ACL", "SETUSER", "replica-a", "on", ">secret-a", "~*", "&*", "+@all");
    await admin.call("ACL", "SETUSER", "replica-b", "on", ">secret-b", "~*", "&*", "+@all");
    const replica = (user: string, password: string) =>
      startPortcullisProcess({
        env: { REDIS_URL: redis.url, REDIS_USERNAME: user, REDIS_PASSWORD: password, PORTCULLIS_ROOT_TOKENS: rootToken },
      });
    [replicaA, replicaB] = await Promise.all([replica("replica-a", "secret-a"), replica("replica-b", "secret-b")]);
    a = createClients(replicaA.url);
    b = createClients(replicaB.url);
  });
  afterAll(async () => {
    await Promise.all([replicaA?.stop(), replicaB?.stop()]);
    admin?.disconnect();
    await redis?.dispose();
  });

  const bypassing = () => replicaB.output().split("\n").filter((line) => line.includes("credential caches bypassed")).length;
  const inUse = () => replicaB.output().split("\n").filter((line) => line.includes("credential caches in use")).length;

  it("denies a token revoked while its subscriber connection was down, and still after it is back", async () => {
    const doomed = await a.admin.mintToken({ scopes: ["kafka:read"], name: "doomed" }, asRoot);
    const kept = await a.admin.mintToken({ scopes: ["kafka:read"], name: "kept" }, asRoot);
    await warm(b, doomed.token);
    await warm(b, kept.token);
    const bypassedBefore = bypassing();
    const inUseBefore = inUse();

    // B may not subscribe any more, so its subscriber stays down once killed.
    await admin.call("ACL", "SETUSER", "replica-b", "resetchannels");
    await admin.call("CLIENT", "KILL", "USER", "replica-b", "TYPE", "pubsub");
    await eventually(async () => bypassing() > bypassedBefore, 10_000);

    // Published while nobody on B listens: B never hears of this revocation.
    await a.admin.revokeToken({ tokenId: doomed.record!.tokenId }, asRoot);
    expect(await decide(b, doomed.token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });

    await admin.call("ACL", "SETUSER", "replica-b", "allchannels");
    await eventually(async () => inUse() > inUseBefore, 10_000);
    for (let round = 0; round < 3; round++) {
      expect(await decide(b, doomed.token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });
      expect(await decide(b, kept.token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    }
  });

  it("denies a token revoked right after the subscriber connection was killed, however quickly it reconnects", async () => {
    const doomed = await a.admin.mintToken({ scopes: ["kafka:read"], name: "raced" }, asRoot);
    await warm(b, doomed.token);
    await admin.call("CLIENT", "KILL", "USER", "replica-b", "TYPE", "pubsub");
    await a.admin.revokeToken({ tokenId: doomed.record!.tokenId }, asRoot);
    expect(await deniedReason(b, doomed.token)).toBe("token_revoked");
    // Whether B heard it or flushed its caches on reconnecting, the denial stays.
    await eventually(async () => inUse() >= 2, 10_000);
    expect(await decide(b, doomed.token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });
  });
});
