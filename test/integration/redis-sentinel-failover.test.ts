import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { bearer, decide, type Clients } from "../support/clients.js";
import { eventually } from "../support/eventually.js";
import { mixedLoadThroughFailover, sentinelTopology, startFailoverReplicas, storeDisagreements } from "../support/failover-load.js";
import type { TestTopology } from "../support/redis.js";
import { startRedisSentinelGroup, type RedisSentinelFixture } from "../support/redis-sentinel.js";
import type { Replicas } from "../support/replicas.js";

describe("two replicas on a Redis Sentinel group (1 master, 1 replica, 3 sentinels)", () => {
  let group: RedisSentinelFixture;
  let topology: TestTopology;
  let replicas: Replicas;
  let a: Clients;
  let b: Clients;

  beforeAll(async () => {
    group = await startRedisSentinelGroup();
    topology = sentinelTopology(group);
    ({ replicas, a, b } = await startFailoverReplicas(topology));
  }, 90_000);

  afterAll(async () => {
    await replicas?.stop();
    await group?.dispose();
  });

  it("pauses decisions as Unavailable while the sentinels promote the replica, never allows a revoked token, and resumes without a restart", async () => {
    const victim = await group.masterPort();
    const report = await mixedLoadThroughFailover({
      writer: a,
      reader: b,
      rootToken: replicas.rootToken,
      kill: () => group.kill(victim),
      settleMs: 3000,
      deadlineMs: 60_000,
    });
    console.info(
      `sentinel master ${victim} killed: decisions paused for ${report.pauseS.toFixed(1)} s ` +
        `(${report.unavailable} of ${report.decisions} answered Unavailable), ${report.acknowledgedRevocations.length} revocations acknowledged`,
    );
    expect(await group.masterPort()).not.toBe(victim);
    expect(report.unavailable).toBeGreaterThan(0);
    expect(report.revokedButAllowed).toEqual([]);
    expect(report.unexpectedDenials).toEqual([]);
    expect(report.acknowledgedRevocations.length).toBeGreaterThan(0);

    expect(
      await storeDisagreements(topology, { live: report.live.map((entry) => entry.id), revoked: report.revokedTokens.map((entry) => entry.id) }),
    ).toEqual({ missing: [], unrevoked: [] });
    for (const { token } of report.live.slice(0, 10)) {
      expect(await decide(b, token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    }
    // The promoted master has no replica left, so a write is not acknowledged, and says why
    // (once the writer's own connection has found the new master).
    let refusal = "";
    await eventually(async () => {
      refusal = await a.admin.mintToken({ scopes: ["orders:read"], name: "after-failover" }, bearer(replicas.rootToken)).then(
        () => "acknowledged",
        (error: Error) => error.message,
      );
      return !refusal.includes("redis unavailable");
    }, 15_000);
    expect(refusal).toMatch(/reached 0 of the 1 replica\(s\) redis.wait_replicas asks for/);
  }, 120_000);
});
