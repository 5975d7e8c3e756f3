import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import type { StoredToken } from "../../src/model/token.js";
import { connectRedis, type RedisClient } from "../../src/store/redis/redis-connection.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { eventually } from "../support/eventually.js";
import { startOwnRedis, type OwnRedis } from "../support/redis-server.js";
import { aStoredToken } from "../support/store-fixtures.js";

const LOOKUPS = 200;

/** Known and unknown ids interleaved, each with the record it must be answered with (none for an unknown one). */
function lookups(known: readonly StoredToken[]): { id: string; expected: StoredToken | undefined }[] {
  return Array.from({ length: LOOKUPS }, (_, index) => {
    const token = index % 3 === 0 ? known[index % known.length] : undefined;
    return { id: token?.id ?? `tok_unknown_${index}`, expected: token };
  });
}

/** Every lookup of one turn of the event loop, as the store answers it. */
function lookUpAll(store: Store, ids: readonly string[]): Promise<PromiseSettledResult<StoredToken | undefined>[]> {
  return Promise.allSettled(ids.map((id) => store.tokens.get(id)));
}

/** Many lookups in one turn, each answered with its own record (none for an unknown id), never an error or another's record. */
async function expectOwnRecords(store: Store, known: readonly StoredToken[]): Promise<void> {
  const wanted = lookups(known);
  const outcomes = await lookUpAll(store, wanted.map((lookup) => lookup.id));
  expect(outcomes.map((outcome) => (outcome.status === "fulfilled" ? outcome.value : outcome.reason))).toEqual(wanted.map((lookup) => lookup.expected));
}

function expectAllUnavailable(outcomes: PromiseSettledResult<unknown>[]): void {
  for (const outcome of outcomes) {
    expect(outcome.status).toBe("rejected");
    expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(UnavailableError);
  }
}

async function insertTokens(store: Store, count: number): Promise<StoredToken[]> {
  const tokens = Array.from({ length: count }, (_, index) => aStoredToken({ name: `burst-${index}`, scopes: [`scope:${index}`] }));
  for (const token of tokens) await store.tokens.insert(token);
  return tokens;
}

/** The next turn of the event loop: whatever the previous one wrote has left the process. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe("a burst of Redis lookups in one turn of the event loop", () => {
  let redis: OwnRedis;
  let admin: Redis;
  let client: RedisClient;
  let store: Store;
  let known: StoredToken[];

  beforeAll(async () => {
    // A Redis of its own: its count of reads is this test's alone.
    redis = await startOwnRedis();
    admin = new Redis(redis.url);
    client = await connectRedis({ url: redis.url, commandTimeoutMs: 2000 }, 5000);
    store = await openRedisStore({ url: redis.url, prefix: "{pcl-burst}:", startupTimeoutMs: 5000, commandTimeoutMs: 2000 });
    known = await insertTokens(store, 10);
  });
  afterAll(async () => {
    client?.disconnect();
    admin?.disconnect();
    await store?.close();
    await redis?.dispose();
  });

  const readsByRedis = async () => Number(/^total_reads_processed:(\d+)/m.exec(await admin.info("stats"))![1]);

  it("reaches Redis in one write, not one write per command", async () => {
    const before = await readsByRedis();
    const replies = await Promise.all(Array.from({ length: LOOKUPS }, (_, index) => client.hgetall(`pcl-burst-absent-${index}`)));
    expect(replies).toEqual(Array.from({ length: LOOKUPS }, () => ({})));
    // The burst, and the INFO that counts; written one by one, the burst took Redis scores of reads.
    expect((await readsByRedis()) - before).toBeLessThan(5);
  });

  it("answers each lookup with its own record, or none for an unknown id", async () => {
    await expectOwnRecords(store, known);
  });
});

describe("token lookups under way when Redis fails", () => {
  let redis: OwnRedis;
  let store: Store;
  let known: StoredToken[];

  beforeAll(async () => {
    redis = await startOwnRedis();
    store = await openRedisStore({ url: redis.url, prefix: "{pcl-burst}:", startupTimeoutMs: 5000, commandTimeoutMs: 300 });
    known = await insertTokens(store, 10);
  });
  afterAll(async () => {
    await store?.close();
    await redis?.dispose();
  });

  /** Once Redis answers again, every lookup gets its own record: no reply meant for a failed lookup is taken for a later one. */
  async function answersCorrectlyAgain(): Promise<void> {
    await eventually(async () => (await store.tokens.get(known[0]!.id).catch(() => undefined)) !== undefined, 20_000);
    await expectOwnRecords(store, known);
  }

  it("fails every lookup of two bursts written but unanswered as Unavailable when Redis dies, and answers correctly once it is back", async () => {
    const ids = lookups(known).map((lookup) => lookup.id);
    // Holds every command unanswered until the kill (a frozen process would be woken to be killed, and answer first).
    const pauser = new Redis(redis.url);
    await pauser.client("PAUSE", 60_000, "ALL");
    pauser.disconnect();
    const first = lookUpAll(store, ids);
    await nextTurn();
    const second = lookUpAll(store, ids);
    await nextTurn();
    await redis.kill();
    expectAllUnavailable(await first);
    expectAllUnavailable(await second);
    await redis.start();
    await answersCorrectlyAgain();
  });

  it("fails every lookup of a burst as Unavailable once the command timeout passes while Redis is frozen, and answers correctly once it runs", async () => {
    const ids = lookups(known).map((lookup) => lookup.id);
    redis.freeze();
    try {
      expectAllUnavailable(await lookUpAll(store, ids));
    } finally {
      redis.thaw();
    }
    await answersCorrectlyAgain();
  });
});
