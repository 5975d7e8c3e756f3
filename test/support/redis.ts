import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { scanEveryMaster } from "../../src/store/redis/redis-scan.js";
import type { HostPort, RedisSettings } from "../../src/store/redis/redis-topology.js";

/** The redis-server started for this test run (test/support/redis-global-setup.ts). */
export const TEST_REDIS_URL = inject("testRedisUrl");

/** `127.0.0.1:7000` as ioredis takes it. */
export function hostPort(entry: string): HostPort {
  const [host, port] = entry.split(":");
  return { host: host!, port: Number(port) };
}

/** A topology this run started, and how a store reaches it. */
export interface TestTopology {
  readonly label: string;
  readonly settings: RedisSettings;
  /** `redis.wait_replicas` as a deployment of this topology sets it by default. */
  readonly waitReplicas: number;
}

export const TEST_TOPOLOGIES: readonly TestTopology[] = [
  { label: "redis", settings: { url: TEST_REDIS_URL, commandTimeoutMs: 2000 }, waitReplicas: 0 },
  { label: "redis cluster", settings: { clusterNodes: inject("testRedisClusterNodes").map(hostPort), commandTimeoutMs: 2000 }, waitReplicas: 1 },
  {
    label: "redis sentinel",
    settings: {
      sentinel: { sentinels: inject("testRedisSentinel").sentinels.map(hostPort), name: inject("testRedisSentinel").name },
      commandTimeoutMs: 2000,
    },
    waitReplicas: 1,
  },
];

/**
 * A key prefix of this test run's own (hash-tagged like production) and a
 * way to remove its keys: the shared records under the prefix, the
 * per-record keys under it without its braces (docs/storage.md).
 */
export function testRedisPrefix(settings: RedisSettings = TEST_TOPOLOGIES[0]!.settings): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `{pcl-test-${randomBytes(6).toString("hex")}}:`;
  return {
    prefix,
    async cleanup() {
      const client = await connectRedis(settings, 5000);
      try {
        for (const pattern of [`${prefix}*`, `${prefix.replace(/[{}]/g, "")}*`]) {
          await scanEveryMaster(client, pattern, async (node, keys) => {
            // One DEL per key: a batch may span slots.
            await Promise.all(keys.map((key) => node.del(key)));
          });
        }
      } finally {
        client.disconnect();
      }
    },
  };
}

/** The environment that points a server process at `topology` (REDIS_URL emptied, which counts as unset, for the others). */
export function topologyEnv(topology: TestTopology): Record<string, string> {
  const { url, sentinel, clusterNodes } = topology.settings;
  const address = (entries: HostPort[]) => entries.map((entry) => `${entry.host}:${entry.port}`).join(",");
  if (clusterNodes !== undefined) return { REDIS_URL: "", PORTCULLIS_REDIS_CLUSTER_NODES: address(clusterNodes) };
  if (sentinel !== undefined) {
    return { REDIS_URL: "", PORTCULLIS_REDIS_SENTINELS: address(sentinel.sentinels), PORTCULLIS_REDIS_SENTINEL_NAME: sentinel.name };
  }
  return { REDIS_URL: url! };
}
