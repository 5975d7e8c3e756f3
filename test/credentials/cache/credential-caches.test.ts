import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cacheSettings } from "../../../src/credentials/cache/cache-settings.js";
import { credentialCaches, type CredentialCaches } from "../../../src/credentials/cache/credential-caches.js";
import type { StoredToken } from "../../../src/model/token.js";
import { openEmbeddedStore } from "../../../src/store/embedded/embedded-store.js";
import type { Store } from "../../../src/store/store.js";

const START = 1_800_000_000_000;

function aToken(overrides: Partial<StoredToken> = {}): StoredToken {
  return {
    id: `tok_${randomBytes(11).toString("hex")}`,
    hash: randomBytes(32).toString("hex"),
    scopes: ["kafka:read"],
    name: "cached",
    allowedLibraries: [],
    allowedTools: [],
    source: "minted",
    createdAt: START,
    ...overrides,
  };
}

describe("the credential caches over the embedded store", () => {
  let dataDir: string;
  let store: Store;
  let now: number;
  /** Token reads that reached the store. */
  let storeReads: number;
  /** Set by a test to hold a token read between the store's answer and its return. */
  let hold: Promise<void> | undefined;
  let caches: CredentialCaches;

  const open = (settings: Parameters<typeof cacheSettings>[0] = {}) => {
    const counted = {
      ...store,
      tokens: {
        ...store.tokens,
        get: async (id: string) => {
          storeReads++;
          const token = await store.tokens.get(id);
          await hold;
          return token;
        },
      },
    };
    caches = credentialCaches({ store: counted, settings: cacheSettings(settings), clock: () => now, onHealth: () => undefined });
  };

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-cache-"));
    store = await openEmbeddedStore(dataDir);
    now = START;
    storeReads = 0;
    hold = undefined;
    open();
  });
  afterEach(async () => {
    caches.stop();
    await store.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers a token from the cache until its expiry, then from the store", async () => {
    const token = aToken({ expiresAt: START + 5000 });
    await store.tokens.insert(token);
    expect(await caches.tokens.get(token.id)).toEqual(token);
    now = START + 4999;
    expect(await caches.tokens.get(token.id)).toEqual(token);
    expect(storeReads).toBe(1);
    now = START + 5001;
    await caches.tokens.get(token.id);
    expect(storeReads).toBe(2);
  });

  it("keeps no entry longer than ttl_ms, even for a token that never expires", async () => {
    open({ ttl_ms: 1000 });
    const token = aToken();
    await store.tokens.insert(token);
    await caches.tokens.get(token.id);
    now = START + 1001;
    await caches.tokens.get(token.id);
    expect(storeReads).toBe(2);
  });

  it("drops a token's entry when the store announces its revocation", async () => {
    const token = aToken();
    await store.tokens.insert(token);
    expect((await caches.tokens.get(token.id))?.revokedAt).toBeUndefined();
    await store.tokens.revoke(token.id, START + 1);
    expect((await caches.tokens.get(token.id))?.revokedAt).toBe(START + 1);
  });

  it("answers a read that was in flight during an invalidation, but does not keep it", async () => {
    const token = aToken();
    await store.tokens.insert(token);
    let release!: () => void;
    hold = new Promise((resolve) => (release = resolve));
    const inFlight = caches.tokens.get(token.id);
    await new Promise((resolve) => setImmediate(resolve));
    await store.tokens.revoke(token.id, START + 1);
    release();
    expect((await inFlight)?.revokedAt).toBeUndefined();
    hold = undefined;
    expect((await caches.tokens.get(token.id))?.revokedAt).toBe(START + 1);
    expect(storeReads).toBe(2);
  });

  it("remembers unknown token ids no longer than negative_ttl_ms", async () => {
    open({ negative_ttl_ms: 200 });
    expect(await caches.tokens.get("tok_unknownunknownunknow")).toBeUndefined();
    expect(await caches.tokens.get("tok_unknownunknownunknow")).toBeUndefined();
    expect(storeReads).toBe(1);
    now = START + 201;
    await caches.tokens.get("tok_unknownunknownunknow");
    expect(storeReads).toBe(2);
  });

  it("holds at most negative_max_entries unknown token ids, however many distinct ones are tried", async () => {
    open({ negative_max_entries: 100 });
    for (let index = 0; index < 5000; index++) await caches.tokens.get(`tok_${randomBytes(11).toString("hex")}`);
    expect(caches.sizes().unknownTokens).toBe(100);
  });

  it("finds a token created after its id was remembered as unknown", async () => {
    const token = aToken();
    expect(await caches.tokens.get(token.id)).toBeUndefined();
    await store.tokens.insert(token);
    expect(await caches.tokens.get(token.id)).toEqual(token);
  });

  it("holds at most max_entries records, the least recently used going first", async () => {
    open({ max_entries: 10 });
    const tokens = Array.from({ length: 30 }, () => aToken());
    for (const token of tokens) await store.tokens.insert(token);
    for (const token of tokens) await caches.tokens.get(token.id);
    expect(caches.sizes().tokens).toBe(10);
  });

  it("empties every cache on clear()", async () => {
    const token = aToken();
    await store.tokens.insert(token);
    await caches.tokens.get(token.id);
    await caches.tokens.get("tok_unknownunknownunknow");
    caches.clear();
    expect(caches.sizes()).toMatchObject({ tokens: 0, unknownTokens: 0 });
    await caches.tokens.get(token.id);
    expect(storeReads).toBe(3);
  });

  it("reads the store every time when caching is off", async () => {
    open({ enabled: false });
    const token = aToken();
    await store.tokens.insert(token);
    for (let index = 0; index < 3; index++) await caches.tokens.get(token.id);
    expect(storeReads).toBe(3);
  });
});
