import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import type { Invalidation } from "../../src/store/invalidation.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { RedisSettings } from "../../src/store/redis/redis-topology.js";
import { eventually } from "../support/eventually.js";
import { hostPort } from "../support/redis.js";
import { startRedisCluster, type RedisClusterFixture } from "../support/redis-cluster.js";
import { aStoredToken } from "../support/store-fixtures.js";

const USER = { name: "portcullis", password: randomBytes(12).toString("hex") };

describe("a Redis Cluster that asks for an ACL user", () => {
  let cluster: RedisClusterFixture;
  let settings: RedisSettings;
  beforeAll(async () => {
    cluster = await startRedisCluster({ user: USER, replicas: 0 });
    settings = {
      clusterNodes: cluster.nodes.map(hostPort),
      username: USER.name,
      password: USER.password,
      commandTimeoutMs: 2000,
    };
  }, 60_000);
  afterAll(async () => {
    await cluster?.dispose();
  });

  it("keeps, lists and revokes tokens there, and hears the revocation on its invalidation feed", async () => {
    const store = await openRedisStore({ ...settings, prefix: "{tls-test}:", startupTimeoutMs: 10_000 });
    try {
      const feed: Invalidation[] = [];
      store.watchInvalidations((invalidation) => feed.push(invalidation));
      await eventually(async () => feed.some((event) => event.kind === "health" && event.healthy), 10_000);
      const token = aStoredToken({ scopes: ["api:read"], name: "over-tls", createdAt: 1 });
      await store.tokens.insert(token);
      expect(await store.tokens.get(token.id)).toEqual(token);
      expect((await store.tokens.list()).map((listed) => listed.id)).toEqual([token.id]);
      await store.tokens.revoke(token.id, 2);
      await eventually(async () => feed.some((event) => event.kind === "token" && event.id === token.id), 5_000);
    } finally {
      await store.close();
    }
  });

  it("refuses a wrong password as Unavailable, naming the reason", async () => {
    const connecting = connectRedis({ ...settings, password: "wrong" }, 2_000);
    await expect(connecting).rejects.toBeInstanceOf(UnavailableError);
    await expect(connecting).rejects.toThrow(/WRONGPASS|invalid username-password/);
  });
});
