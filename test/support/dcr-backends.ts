import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe } from "vitest";
import { encodeDcrKey } from "../../src/model/dcr-key.js";
import { canonicalDcrKey, type DcrKeyInput } from "../../src/oauth/dcr-key-input.js";
import { createDcrRegistry, type DcrRegistry } from "../../src/oauth/dcr-registry.js";
import { plainSealer, type SecretSealer } from "../../src/sealing/secret-sealer.js";
import type { EmbeddedDcrEntry } from "../../src/store/embedded/embedded-state.js";
import { EMBEDDED_DATA_FILE, openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { redisKeys } from "../../src/store/redis/redis-keys.js";
import { connectRedis } from "../../src/store/redis/redis-connection.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { EXAMPLE_KEY } from "./dcr-fixtures.js";
import { TEST_TOPOLOGIES, testRedisPrefix, type TestTopology } from "./redis.js";

/** A backend under test, plus a look at what it really stored (not through the store's own reads). */
export interface DcrBackend {
  store: Store;
  /** Remaining lifetime in ms, null when kept forever, undefined when absent. */
  storedTtlMs(key: DcrKeyInput): Promise<number | null | undefined>;
  /** The stored text of an entry. */
  storedText(key: DcrKeyInput): Promise<string | undefined>;
  close(): Promise<void>;
}

async function embeddedBackend(): Promise<DcrBackend> {
  const dir = await mkdtemp(join(tmpdir(), "pcl-dcr-contract-"));
  const store = await openEmbeddedStore(dir);
  const fileEntry = async (key: DcrKeyInput) => {
    const file = JSON.parse(await readFile(join(dir, EMBEDDED_DATA_FILE), "utf8")) as { dcr: Record<string, EmbeddedDcrEntry> };
    return file.dcr[encodeDcrKey(canonicalDcrKey(key))];
  };
  return {
    store,
    async storedTtlMs(key) {
      const entry = await fileEntry(key);
      if (entry === undefined || (entry.evictAt !== undefined && entry.evictAt <= Date.now())) return undefined;
      return entry.evictAt === undefined ? null : entry.evictAt - Date.now();
    },
    async storedText(key) {
      const entry = await fileEntry(key);
      return entry === undefined ? undefined : JSON.stringify(entry.record);
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function redisBackend(topology: TestTopology): Promise<DcrBackend> {
  const { prefix, cleanup } = testRedisPrefix(topology.settings);
  const dcrPrefix = `${prefix}shared:`;
  const store = await openRedisStore({ ...topology.settings, prefix, dcrPrefix, waitReplicas: topology.waitReplicas, startupTimeoutMs: 5000 });
  const raw = await connectRedis(topology.settings, 5000);
  const keys = redisKeys(prefix, dcrPrefix);
  return {
    store,
    async storedTtlMs(key) {
      const ttl = await raw.pttl(keys.dcr(canonicalDcrKey(key)));
      return ttl === -2 ? undefined : ttl === -1 ? null : ttl;
    },
    async storedText(key) {
      return (await raw.get(keys.dcr(canonicalDcrKey(key)))) ?? undefined;
    },
    async close() {
      await store.close();
      await cleanup();
      raw.disconnect();
    },
  };
}

const HOUR_MS = 3600_000;

export interface DcrContext {
  backend(): DcrBackend;
  /** The registry on this backend, with plain secrets unless another sealer is given. */
  registry(sealer?: SecretSealer): DcrRegistry;
  /** A key of this test's own, so tests never see each other's entries. */
  freshKey(overrides?: Partial<DcrKeyInput>): DcrKeyInput;
}

/** Runs `contract` once per backend, on one store opened for the whole suite. */
export function describeDcrContract(concern: string, contract: (context: DcrContext) => void): void {
  describe.each([
    { name: "embedded", open: embeddedBackend },
    ...TEST_TOPOLOGIES.map((topology) => ({ name: topology.label, open: () => redisBackend(topology) })),
  ])(`the DCR credential store's ${concern} on the $name backend`, ({ open }) => {
    let backend: DcrBackend;
    let counter = 0;
    beforeAll(async () => {
      backend = await open();
    });
    afterAll(async () => {
      await backend?.close();
    });
    contract({
      backend: () => backend,
      registry: (sealer: SecretSealer = plainSealer) =>
        createDcrRegistry({
          store: backend.store.dcr,
          clock: Date.now,
          sealer,
          settings: { staleAfterMs: HOUR_MS, leaseTtlMs: 30_000, awaitMaxMs: 10_000, awaitPollMs: 20 },
        }),
      freshKey: (overrides = {}) => ({ ...EXAMPLE_KEY, issuer: `https://thv-${++counter}.example.com`, ...overrides }),
    });
  });
}
