import type { TestProject } from "vitest/node";
import { exitUnlessRedisServerInstalled } from "./redis-binary.js";
import { startRedisCluster } from "./redis-cluster.js";
import { startRedisSentinelGroup } from "./redis-sentinel.js";
import { startOwnRedis } from "./redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The redis-server this test run started for itself (see test/support/redis.ts). */
    testRedisUrl: string;
    /** The nodes (`host:port`) of the Redis Cluster this run started (3 masters, 3 replicas). */
    testRedisClusterNodes: string[];
    /** The sentinels (`host:port`) and master name of the Sentinel group this run started. */
    testRedisSentinel: { sentinels: string[]; name: string };
  }
}

/**
 * One redis-server, one Redis Cluster and one Sentinel group for the whole
 * run, on free ports and temp dirs of their own, so the tests never write
 * into a Redis they did not start (whatever listens on 6379 may hold
 * someone's data). The store contract suites run on each topology
 * (test/support/store-backends.ts); tests that kill a node start their own.
 * Vitest runs the returned teardown after the last file, failed or not:
 * every server stops and its data dir is removed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  exitUnlessRedisServerInstalled();
  const redis = await startOwnRedis();
  const cluster = await startRedisCluster();
  const sentinel = await startRedisSentinelGroup();
  project.provide("testRedisUrl", redis.url);
  project.provide("testRedisClusterNodes", cluster.nodes);
  project.provide("testRedisSentinel", { sentinels: sentinel.sentinels, name: sentinel.name });
  return async () => {
    await Promise.all([redis.dispose(), cluster.dispose(), sentinel.dispose()]);
  };
}
