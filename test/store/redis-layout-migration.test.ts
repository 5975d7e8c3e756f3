import { Redis } from "ioredis";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { StoredToken } from "../../src/model/token.js";
import { redisKeys } from "../../src/store/redis/redis-keys.js";
import type { LayoutMigration } from "../../src/store/redis/redis-layout-migration.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";
import { aStoredToken } from "../support/store-fixtures.js";

/**
 * The first release kept every key under the prefix's one hash tag. These
 * raw writes are the ones its scripts made (insert-token.lua, revoke-token.lua,
 * the jti SET and the OAuth state SET), so the upgrade below meets exactly
 * what a deployment of that release left in Redis.
 */
async function writeFirstLayout(redis: Redis, prefix: string, token: StoredToken, revoked: StoredToken) {
  for (const written of [token, revoked]) {
    const { revokedAt: _r, lastUsedAt: _u, ...data } = written;
    await redis.hset(`${prefix}token:${written.id}`, "data", JSON.stringify(data));
    await redis.zadd(`${prefix}tokens`, written.createdAt, written.id);
  }
  await redis.hset(`${prefix}token:${token.id}`, "last_used_at", "1700000000500");
  await redis.hset(`${prefix}token:${revoked.id}`, "revoked_at", String(revoked.revokedAt));
  await redis.set(`${prefix}bootstrap`, token.id);
  await redis.set(`${prefix}jti:replayed`, "111", "PX", 60_000);
  await redis.set(`${prefix}oauth-state:flow-1`, JSON.stringify({ expiresAt: Date.now() + 60_000, createdAt: Date.now(), upstream: "u" }), "PX", 60_000);
}

describe("a Redis store upgraded from the first key layout", () => {
  let redis: Redis;
  let space: ReturnType<typeof testRedisPrefix>;
  let store: Store | undefined;
  beforeEach(() => {
    redis = new Redis(TEST_REDIS_URL);
    space = testRedisPrefix();
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await space.cleanup();
    redis.disconnect();
  });
  /** Opens the store on the test's prefix; answers what its start said it migrated. */
  const open = async () => {
    const migrations: LayoutMigration[] = [];
    store = await openRedisStore({
      url: TEST_REDIS_URL,
      prefix: space.prefix,
      commandTimeoutMs: 2000,
      startupTimeoutMs: 5000,
      onMigrated: (migration) => migrations.push(migration),
    });
    return { store, migrations };
  };

  it("keeps every token, revocation, use, replayed jti, pending OAuth flow and the bootstrap claim", async () => {
    const token = aStoredToken({ createdAt: 1 });
    const revoked = aStoredToken({ createdAt: 2, revokedAt: 1_700_000_000_900 });
    await writeFirstLayout(redis, space.prefix, token, revoked);
    const { store: upgraded, migrations } = await open();

    expect(migrations).toEqual([{ moved: 4, kept: 0 }]);
    expect(await upgraded.tokens.get(token.id)).toEqual({ ...token, lastUsedAt: 1_700_000_000_500 });
    expect(await upgraded.tokens.get(revoked.id)).toEqual(revoked);
    expect((await upgraded.tokens.list()).map((listed) => listed.id)).toEqual([token.id, revoked.id]);
    expect(await upgraded.jti.claim("replayed", 222, Date.now() + 60_000, Date.now())).toEqual({ created: false, value: 111 });
    expect(await upgraded.oauthStates.find("flow-1", Date.now())).toMatchObject({ record: { upstream: "u" } });
    expect(await upgraded.tokens.claimBootstrap(aStoredToken({ source: "bootstrap" }))).toBe(false);
    expect((await upgraded.tokens.revoke(token.id, 5))?.revokedAt).toBe(5);
  });

  it("leaves no key of the first layout behind, and keeps a record's time to live", async () => {
    await writeFirstLayout(redis, space.prefix, aStoredToken(), aStoredToken({ revokedAt: 3 }));
    await open();
    const keys = redisKeys(space.prefix);
    const left = (await redis.keys(`${space.prefix}*`)).filter((key) => key !== keys.bootstrapMarker).sort();
    expect(left).toEqual([]);
    const ttl = await redis.pttl(keys.jti("replayed"));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it("finishes a record an interrupted migration left parked, and a second start moves nothing", async () => {
    const token = aStoredToken();
    // Parked by a run that stopped before restoring it.
    await redis.hset(`${space.prefix}moving:token:${token.id}`, "data", JSON.stringify(token));
    const first = await open();
    expect(await first.store.tokens.get(token.id)).toEqual(token);
    await first.store.close();
    const second = await open();
    expect(second.migrations).toEqual([{ moved: 0, kept: 0 }]);
    expect(await second.store.tokens.get(token.id)).toEqual(token);
  });

  it("keeps the newer record when both layouts hold one id", async () => {
    const token = aStoredToken();
    const fresh = await open();
    await fresh.store.tokens.insert(token);
    await fresh.store.close();
    await redis.hset(`${space.prefix}token:${token.id}`, "data", JSON.stringify({ ...token, name: "stale copy" }));
    const upgraded = await open();
    expect((await upgraded.store.tokens.get(token.id))?.name).toBe(token.name);
    expect(await redis.exists(`${space.prefix}token:${token.id}`)).toBe(0);
  });
});
