import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { bootstrapRootToken, ROOT_TOKEN_FILE } from "../../src/admin/bootstrap.js";
import { SecretHasher, tokenIdFromHash } from "../../src/credentials/opaque-token.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";

describe("bootstrapping the root token", () => {
  let redis: ReturnType<typeof testRedisPrefix>;
  let dataDir: string;
  let replicas: Store[];

  beforeEach(async () => {
    redis = testRedisPrefix();
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-bootstrap-"));
    const open = () => openRedisStore({ url: TEST_REDIS_URL, prefix: redis.prefix, commandTimeoutMs: 2000, startupTimeoutMs: 5000 });
    replicas = await Promise.all([open(), open(), open()]);
  });
  afterEach(async () => {
    await Promise.all(replicas.map((store) => store.close()));
    await redis.cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("leaves the winning replica's secret in root.token when replicas sharing a data dir race", async () => {
    const hasher = new SecretHasher();
    const log = pino({ level: "silent" });
    await Promise.all(
      replicas.map((store) => bootstrapRootToken({ tokens: store.tokens, hasher, clock: Date.now, dataDir, log })),
    );

    expect(await readdir(dataDir)).toEqual([ROOT_TOKEN_FILE]);
    const secret = (await readFile(join(dataDir, ROOT_TOKEN_FILE), "utf8")).trim();
    const stored = await replicas[0]!.tokens.list();
    expect(stored.map((token) => [token.id, token.source])).toEqual([[tokenIdFromHash(hasher.hash(secret)), "bootstrap"]]);
  });
});
