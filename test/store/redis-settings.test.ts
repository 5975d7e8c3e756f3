import { describe, expect, it } from "vitest";
import { redisConfig } from "../../src/store/redis/redis-settings.js";

describe("the redis section", () => {
  it("waits for one replica by default with Sentinel or Cluster, and for none with a URL", () => {
    expect(redisConfig({ cluster_nodes: ["n1:7000"] })?.waitReplicas).toBe(1);
    expect(redisConfig({ sentinels: ["s1:26379"], sentinel_name: "m" })?.waitReplicas).toBe(1);
    expect(redisConfig({ url: "redis://cache:6379" })?.waitReplicas).toBe(0);
    expect(redisConfig({ url: "redis://cache:6379", wait_replicas: 2 })?.waitReplicas).toBe(2);
  });

  it("waits at most half the command timeout for replicas unless told otherwise", () => {
    expect(redisConfig({ url: "redis://cache:6379" })?.waitTimeoutMs).toBe(500);
    expect(redisConfig({ url: "redis://cache:6379", command_timeout_ms: 500 })?.waitTimeoutMs).toBe(250);
    expect(redisConfig({ url: "redis://cache:6379", command_timeout_ms: 500, wait_timeout_ms: 400 })?.waitTimeoutMs).toBe(400);
  });

  it("reads sentinels and cluster nodes as hosts and ports, IPv6 addresses in brackets", () => {
    expect(redisConfig({ sentinels: ["s1:26379", "[::1]:26380"], sentinel_name: "m", sentinel_password: "pw" })?.sentinel).toEqual({
      sentinels: [
        { host: "s1", port: 26379 },
        { host: "::1", port: 26380 },
      ],
      name: "m",
      password: "pw",
    });
    expect(redisConfig({ cluster_nodes: ["10.0.0.1:7000"], tls: true })).toMatchObject({ clusterNodes: [{ host: "10.0.0.1", port: 7000 }], tls: true });
  });

  it("refuses a port outside 1 to 65535", () => {
    expect(() => redisConfig({ cluster_nodes: ["n1:70000"] })).toThrow("redis.cluster_nodes[0]: must be host:port");
  });
});
