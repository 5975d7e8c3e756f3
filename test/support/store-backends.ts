import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe } from "vitest";
import { openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { scanEveryMaster } from "../../src/store/redis/redis-scan.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { TEST_TOPOLOGIES, testRedisPrefix, type TestTopology } from "./redis.js";

/** One backend's empty, private storage (a temp dir, a Redis key prefix). */
interface BackendSpace {
  /** Opens a store on this space; a later call reaches the same records. */
  open(): Promise<Store>;
  /** Everything stored, as text, read past the store (the data dir's files, the prefix's Redis values). */
  storedText(): Promise<string>;
  dispose(): Promise<void>;
}

interface StoreBackend {
  readonly name: Store["backend"];
  /** The backend and, for Redis, the topology (standalone, Cluster, Sentinel). */
  readonly label: string;
  createSpace(): Promise<BackendSpace>;
}

export const STORE_BACKENDS: readonly StoreBackend[] = [
  {
    name: "embedded",
    label: "embedded",
    async createSpace() {
      const dataDir = await mkdtemp(join(tmpdir(), "portcullis-store-"));
      return {
        open: () => openEmbeddedStore(dataDir),
        async storedText() {
          const files = await readdir(dataDir, { recursive: true, withFileTypes: true });
          const texts = await Promise.all(files.filter((file) => file.isFile()).map((file) => readFile(join(file.parentPath, file.name), "utf8")));
          return texts.join("\n");
        },
        dispose: () => rm(dataDir, { recursive: true, force: true }),
      };
    },
  },
  ...TEST_TOPOLOGIES.map(
    (topology): StoreBackend => ({
      name: "redis",
      label: topology.label,
      async createSpace() {
        const { prefix, cleanup } = testRedisPrefix(topology.settings);
        return {
          open: () =>
            openRedisStore({ ...topology.settings, prefix, waitReplicas: topology.waitReplicas, startupTimeoutMs: 5000 }),
          storedText: () => redisText(topology, prefix),
          dispose: cleanup,
        };
      },
    }),
  ),
];

/** Every value under `prefix` (and its per-record keys), whatever its type, as text. */
export async function redisText(topology: Pick<TestTopology, "settings">, prefix: string): Promise<string> {
  const client = await connectRedis(topology.settings, 5000);
  const texts: string[] = [];
  try {
    for (const pattern of [`${prefix}*`, `${prefix.replace(/[{}]/g, "")}*`]) {
      await scanEveryMaster(client, pattern, async (node, keys) => {
        for (const key of keys) {
          const type = await node.type(key);
          const value =
            type === "string" ? await node.get(key)
            : type === "hash" ? await node.hgetall(key)
            : type === "zset" ? await node.zrange(key, 0, -1)
            : type === "set" ? await node.smembers(key)
            : type === "list" ? await node.lrange(key, 0, -1)
            : type;
          texts.push(`${key} ${JSON.stringify(value)}`);
        }
      });
    }
  } finally {
    client.disconnect();
  }
  return texts.join("\n");
}

export interface ContractContext {
  /** A store on fresh, empty storage, opened for the current test. */
  store(): Store;
  /** Closes the store and opens it again on the same storage, as a restart does; `store()` then answers the new one. */
  reopen(): Promise<Store>;
  /** Everything the backend holds for this test, as text, read past the store. */
  storedText(): Promise<string>;
}

/**
 * Runs `contract` once per backend, each test on fresh storage. A record
 * kind's contract suite (tokens now; signing keys, teams … later) is one
 * call of this, so every backend is held to the same behaviour.
 */
export function describeStoreContract(recordKind: string, contract: (context: ContractContext) => void): void {
  for (const backend of STORE_BACKENDS) {
    describe(`the ${recordKind} store on the ${backend.label} backend`, () => {
      let space: BackendSpace;
      let current: Store;
      beforeEach(async () => {
        space = await backend.createSpace();
        current = await space.open();
      });
      afterEach(async () => {
        await current.close();
        await space.dispose();
      });
      contract({
        store: () => current,
        async reopen() {
          await current.close();
          current = await space.open();
          return current;
        },
        storedText: () => space.storedText(),
      });
    });
  }
}
