import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, decide, type Clients } from "../../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../../support/in-process.js";
import { startOwnRedis, type OwnRedis } from "../../support/redis-server.js";
import { DEFAULT_REDIS_PREFIX, redisKeys } from "../../../src/store/redis/redis-keys.js";

const DECISIONS = 200;

/** Calls per command so far, from `INFO commandstats`. */
async function commandCalls(client: Redis): Promise<Map<string, number>> {
  const info = await client.info("commandstats");
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((match) => [match[1]!, Number(match[2])]));
}

describe("the warm path on Redis", () => {
  let redis: OwnRedis;
  let admin: Redis;
  let server: InProcessPortcullis;
  let clients: Clients;
  const rootToken = randomBytes(32).toString("base64url");
  let opaque: { token: string; id: string };
  let team: string;

  beforeAll(async () => {
    // A Redis of its own: the shared one counts every other test's commands too.
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
    // Uses are written once per interval; a long one keeps that write out of the measured window.
    server = await startInProcess({ REDIS_URL: redis.url, PORTCULLIS_ROOT_TOKENS: rootToken, PORTCULLIS_LAST_USED_INTERVAL_MS: "600000" });
    clients = createClients(server.url);
    const asRoot = bearer(rootToken);
    await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.HS256 }, asRoot);
    const created = await clients.admin.createTeam({ name: "warm", libraries: ["lib-a"] }, asRoot);
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "warm" }, asRoot);
    opaque = { token: minted.token, id: minted.record!.tokenId };
    team = (await clients.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: created.team!.teamId, scopes: ["kafka:read"] }, asRoot)).token;
  });
  afterAll(async () => {
    await server?.stop();
    admin?.disconnect();
    await redis?.dispose();
  });

  it("sends Redis no command for repeated decisions on an opaque token and a team token seen recently", async () => {
    for (const token of [opaque.token, team]) expect((await decide(clients, token, "kafka:read")).decision).toBe(Decision.ALLOW);

    const before = await commandCalls(admin);
    const startedAt = performance.now();
    for (let round = 0; round < DECISIONS; round++) {
      expect((await decide(clients, opaque.token, "kafka:read")).decision).toBe(Decision.ALLOW);
      expect((await decide(clients, team, "kafka:read")).decision).toBe(Decision.ALLOW);
    }
    const elapsedS = (performance.now() - startedAt) / 1000;
    const after = await commandCalls(admin);

    const sent = new Map([...after].map(([command, calls]) => [command, calls - (before.get(command) ?? 0)]));
    // The INFO of this test is the one call between the two readings that is not the server's.
    sent.set("info", sent.get("info")! - 1);
    const heartbeats = sent.get("ping") ?? 0;
    sent.delete("ping");
    const perDecision = [...sent.values()].reduce((sum, calls) => sum + calls, 0) / (2 * DECISIONS);
    console.info(
      `warm path: ${2 * DECISIONS} decisions in ${elapsedS.toFixed(1)} s sent ${perDecision} Redis commands per decision; ` +
        `besides, ${heartbeats} subscriber heartbeat PINGs (one a second, whatever the load)`,
    );
    expect(Object.fromEntries([...sent].filter(([, calls]) => calls !== 0))).toEqual({});
    expect(heartbeats).toBeLessThanOrEqual(Math.ceil(elapsedS) + 2);
  });

  it("writes the gathered uses of a token when it stops", async () => {
    const key = redisKeys(DEFAULT_REDIS_PREFIX).token(opaque.id);
    expect(await admin.hget(key, "last_used_at")).toBeNull();
    await server.stop();
    expect(Number(await admin.hget(key, "last_used_at"))).toBeGreaterThan(0);
  });
});
