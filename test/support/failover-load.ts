import { Code, ConnectError } from "@connectrpc/connect";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { DEFAULT_REDIS_PREFIX } from "../../src/store/redis/redis-keys.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import { bearer, createClients, decide, type Clients } from "./clients.js";
import type { RedisClusterFixture } from "./redis-cluster.js";
import type { RedisSentinelFixture } from "./redis-sentinel.js";
import { hostPort, type TestTopology } from "./redis.js";
import { startReplicas, type Replicas } from "./replicas.js";

const SCOPE = "orders:read";

/** How a deployment reaches a Sentinel group the test started (`redis.sentinels`, `wait_replicas: 1` by default). */
export function sentinelTopology(group: RedisSentinelFixture): TestTopology {
  return {
    label: "own sentinel group",
    settings: { sentinel: { sentinels: group.sentinels.map(hostPort), name: group.name }, commandTimeoutMs: 2000 },
    waitReplicas: 1,
  };
}

/** How a deployment reaches a Redis Cluster the test started (`redis.cluster_nodes`, `wait_replicas: 1` by default). */
export function clusterTopology(cluster: RedisClusterFixture): TestTopology {
  return { label: "own cluster", settings: { clusterNodes: cluster.nodes.map(hostPort), commandTimeoutMs: 2000 }, waitReplicas: 1 };
}

/** Two replicas of one deployment on a Sentinel group or Cluster of the test's own. */
export interface FailoverReplicas {
  readonly replicas: Replicas;
  readonly a: Clients;
  readonly b: Clients;
}

/**
 * Starts two replicas on `topology` with the default prefix, as a deployment
 * has it (the Redis is the test's own), and without caches, so every
 * decision reads Redis and a failover's pause shows in full. `env` adds to
 * (or overrides) their environment.
 */
export async function startFailoverReplicas(topology: TestTopology, env: Record<string, string> = {}): Promise<FailoverReplicas> {
  const replicas = await startReplicas(2, { PORTCULLIS_REDIS_PREFIX: DEFAULT_REDIS_PREFIX, PORTCULLIS_CACHE_ENABLED: "false", ...env }, topology);
  const [a, b] = replicas.servers.map((server) => createClients(server.url)) as [Clients, Clients];
  return { replicas, a, b };
}

/**
 * What the store itself (not a replica's cache) disagrees with the test
 * about after a failover: the token ids among `live` it no longer holds,
 * and those among `revoked` it does not hold as revoked. Both empty when
 * nothing acknowledged was lost.
 */
export async function storeDisagreements(
  topology: TestTopology,
  tokens: { live: readonly string[]; revoked: readonly string[] },
): Promise<{ missing: string[]; unrevoked: string[] }> {
  const store = await openRedisStore({ ...topology.settings, prefix: DEFAULT_REDIS_PREFIX, startupTimeoutMs: 10_000 });
  try {
    const missing: string[] = [];
    const unrevoked: string[] = [];
    for (const id of tokens.live) if ((await store.tokens.get(id)) === undefined) missing.push(id);
    for (const id of tokens.revoked) if ((await store.tokens.get(id))?.revokedAt === undefined) unrevoked.push(id);
    return { missing, unrevoked };
  } finally {
    await store.close();
  }
}

/** What a mixed load of mints, revokes and decisions saw while Redis lost a master. */
export interface FailoverReport {
  /** From the first decision that failed after the kill to the first that succeeded after the last failure; 0 when none failed. */
  pauseS: number;
  /** Decisions answered Unavailable, and how many in all. */
  unavailable: number;
  decisions: number;
  /** Acknowledged revocations, and the ids of those whose token was allowed at some moment afterwards (must be none). */
  acknowledgedRevocations: string[];
  revokedButAllowed: string[];
  /** Decisions on live tokens that were a denial (not Unavailable) — a lost mint would show here. */
  unexpectedDenials: string[];
  /** Tokens minted and acknowledged, still live at the end. */
  live: { id: string; token: string }[];
  revokedTokens: { id: string; token: string }[];
}

const isUnavailable = (error: unknown) => error instanceof ConnectError && error.code === Code.Unavailable;

/**
 * Mints and revokes on `writer` and decides on `reader` in a loop, calls
 * `kill` once the load runs, and goes on until decisions have succeeded for
 * `settleMs` after the last failure (or `deadlineMs` passed). Only answers
 * are trusted: a revocation that answered Unavailable may or may not have
 * happened, so its token leaves the live set without counting as revoked.
 */
export async function mixedLoadThroughFailover(options: {
  writer: Clients;
  reader: Clients;
  rootToken: string;
  kill: () => Promise<void>;
  settleMs: number;
  deadlineMs: number;
}): Promise<FailoverReport> {
  const { writer, reader, rootToken } = options;
  const auth = bearer(rootToken);
  const live: { id: string; token: string }[] = [];
  const revoked: { id: string; token: string; at: number }[] = [];
  const report: FailoverReport = {
    pauseS: 0,
    unavailable: 0,
    decisions: 0,
    acknowledgedRevocations: [],
    revokedButAllowed: [],
    unexpectedDenials: [],
    live,
    revokedTokens: revoked,
  };
  const mint = async () => {
    const minted = await writer.admin.mintToken({ scopes: [SCOPE], name: "failover-load" }, auth);
    live.push({ id: minted.record!.tokenId, token: minted.token });
  };
  for (let index = 0; index < 20; index++) await mint();

  const startedAt = Date.now();
  let killedAt: number | undefined;
  let firstFailure: number | undefined;
  let lastFailure: number | undefined;
  let recoveredAt: number | undefined;
  for (let round = 0; ; round++) {
    const now = Date.now();
    if (killedAt === undefined && now - startedAt > 1500) {
      killedAt = now;
      await options.kill();
    }
    if (recoveredAt !== undefined && lastFailure !== undefined && recoveredAt > lastFailure && now - recoveredAt > options.settleMs) break;
    if (now - startedAt > options.deadlineMs) break;
    // The writes: failures are expected during the pause and say nothing.
    try {
      if (round % 2 === 0) await mint();
      else if (live.length > 5) {
        const victim = live.splice(Math.floor(Math.random() * live.length), 1)[0]!;
        try {
          await writer.admin.revokeToken({ tokenId: victim.id }, auth);
          revoked.push({ ...victim, at: Date.now() });
        } catch (error) {
          if (!isUnavailable(error)) throw error;
        }
      }
    } catch (error) {
      if (!isUnavailable(error)) throw error;
    }
    // The decisions: a live token, and a token whose revocation was acknowledged.
    const checks = [live[Math.floor(Math.random() * live.length)], revoked[Math.floor(Math.random() * revoked.length)]];
    for (const [kind, entry] of [["live", checks[0]], ["revoked", checks[1]]] as const) {
      if (entry === undefined) continue;
      report.decisions++;
      try {
        const { decision, reason } = await decide(reader, entry.token, SCOPE);
        if (kind === "revoked" && decision === Decision.ALLOW) report.revokedButAllowed.push(entry.id);
        if (kind === "live" && decision !== Decision.ALLOW) report.unexpectedDenials.push(`${entry.id}: ${reason}`);
        if (lastFailure !== undefined && (recoveredAt === undefined || recoveredAt < lastFailure)) recoveredAt = Date.now();
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        report.unavailable++;
        if (killedAt !== undefined) {
          firstFailure ??= Date.now();
          lastFailure = Date.now();
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  report.acknowledgedRevocations = revoked.map((entry) => entry.id);
  report.pauseS = firstFailure === undefined || recoveredAt === undefined ? 0 : (recoveredAt - firstFailure) / 1000;
  return report;
}
