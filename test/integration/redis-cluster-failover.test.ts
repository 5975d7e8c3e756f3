import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { DEFAULT_REDIS_PREFIX, redisKeys } from "../../src/store/redis/redis-keys.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Invalidation } from "../../src/store/invalidation.js";
import { bearer, decide, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { clusterTopology, mixedLoadThroughFailover, startFailoverReplicas, storeDisagreements } from "../support/failover-load.js";
import { startRedisCluster, type RedisClusterFixture } from "../support/redis-cluster.js";
import { hostPort, type TestTopology } from "../support/redis.js";
import type { Replicas } from "../support/replicas.js";

/** One cluster for the file: the spread is measured first, then a master is killed. */
describe("two replicas on a Redis Cluster of 3 masters and 3 replicas", () => {
  let cluster: RedisClusterFixture;
  let topology: TestTopology;
  let replicas: Replicas;
  let a: Clients;
  let b: Clients;
  const minted: string[] = [];

  beforeAll(async () => {
    cluster = await startRedisCluster();
    topology = clusterTopology(cluster);
    ({ replicas, a, b } = await startFailoverReplicas(topology));
  }, 90_000);

  afterAll(async () => {
    await replicas?.stop();
    await cluster?.dispose();
  });

  it("spreads 1,000 minted tokens over the slots of all 3 masters, lists every one, and no script is refused with CROSSSLOT", async () => {
    const root = bearer(replicas.rootToken);
    for (let batch = 0; batch < 20; batch++) {
      const responses = await Promise.all(
        Array.from({ length: 50 }, (_, index) => (index % 2 === 0 ? a : b).admin.mintToken({ scopes: ["orders:read"], name: `spread-${batch}-${index}` }, root)),
      );
      minted.push(...responses.map((response) => response.record!.tokenId));
    }
    const keys = redisKeys(DEFAULT_REDIS_PREFIX);
    const distribution = await cluster.distribution(minted.map((id) => keys.token(id)));
    console.info(`1,000 token keys by master port: ${JSON.stringify(Object.fromEntries(distribution))}`);
    expect([...distribution.keys()].sort()).toEqual((await cluster.masterPorts()).sort());
    // Each master's share of 1,000 uniformly hashed keys is 333 ± 15 (one standard deviation).
    for (const count of distribution.values()) expect(count).toBeGreaterThan(200);

    for (const id of minted.slice(0, 100)) await a.admin.revokeToken({ tokenId: id }, root);
    const listed = new Set((await b.admin.listTokens({}, root)).tokens.map((token) => token.tokenId));
    expect(minted.every((id) => listed.has(id))).toBe(true);

    const refusals: string[] = [];
    for (const port of await cluster.masterPorts()) {
      const node = new Redis({ port, host: "127.0.0.1" });
      refusals.push(...(await node.info("errorstats")).split("\n").filter((line) => line.includes("CROSSSLOT")));
      node.disconnect();
    }
    expect(refusals).toEqual([]);
    for (const server of replicas.servers) expect(server.output()).not.toContain("CROSSSLOT");
  }, 120_000);

  it("pauses decisions as Unavailable while a master fails over, never allows a revoked token, and resumes without a restart", async () => {
    // Every subscriber starts on the first configured node: killing it (a master, as
    // `--cluster create` makes the first nodes) also shows the invalidation feed moving on.
    const masters = await cluster.masterPorts();
    const first = hostPort(cluster.nodes[0]!).port;
    const victim = masters.includes(first) ? first : masters[0]!;
    const watcher = await openRedisStore({ ...topology.settings, prefix: DEFAULT_REDIS_PREFIX, startupTimeoutMs: 10_000 });
    const feed: Invalidation[] = [];
    watcher.watchInvalidations((invalidation) => feed.push(invalidation));
    await eventually(async () => feed.some((event) => event.kind === "health" && event.healthy), 10_000);
    feed.length = 0;
    const report = await mixedLoadThroughFailover({
      writer: a,
      reader: b,
      rootToken: replicas.rootToken,
      kill: () => cluster.kill(victim!),
      settleMs: 3000,
      deadlineMs: 60_000,
    });
    console.info(
      `cluster master ${victim} killed: decisions paused for ${report.pauseS.toFixed(1)} s ` +
        `(${report.unavailable} of ${report.decisions} answered Unavailable), ${report.acknowledgedRevocations.length} revocations acknowledged; ` +
        `the invalidation subscribers' node ${victim === first ? "was" : "was not"} the one killed`,
    );
    expect(report.revokedButAllowed).toEqual([]);
    expect(report.unexpectedDenials).toEqual([]);
    expect(report.acknowledgedRevocations.length).toBeGreaterThan(0);

    // The feed said it was lost (so every cache was emptied) and came back on another node.
    if (victim === first) {
      expect(feed.find((event) => event.kind === "health")).toMatchObject({ healthy: false });
      await eventually(async () => feed.some((event) => event.kind === "health" && event.healthy), 15_000);
    }
    await watcher.close();
    expect(
      await storeDisagreements(topology, { live: report.live.map((entry) => entry.id), revoked: report.revokedTokens.map((entry) => entry.id) }),
    ).toEqual({ missing: [], unrevoked: [] });
    // The promoted master has no replica left: writes to its slots now say so rather than risk being lost.
    for (const { token } of report.live.slice(0, 20)) {
      expect(await decide(b, token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    }
  }, 120_000);
});
