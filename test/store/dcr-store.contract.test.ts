import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../../src/errors.js";
import { canonicalDcrKey, encodeDcrKey, type DcrKeyInput } from "../../src/oauth/dcr-key.js";
import { createDcrRegistry, type DcrRegistry } from "../../src/oauth/dcr-registry.js";
import { envelopeSealer, plainSealer, type SecretSealer } from "../../src/oauth/secret-sealer.js";
import { EMBEDDED_DATA_FILE, openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { EmbeddedDcrEntry } from "../../src/store/embedded/embedded-state.js";
import { redisKeys } from "../../src/store/redis/redis-keys.js";
import { openRedisStore } from "../../src/store/redis/redis-store.js";
import type { Store } from "../../src/store/store.js";
import { EXAMPLE_KEY, exampleResolution, nowSeconds } from "../support/dcr-fixtures.js";
import { TEST_REDIS_URL, testRedisPrefix } from "../support/redis.js";

/** A backend under test, plus a look at what it really stored (not through the store's own reads). */
interface Backend {
  store: Store;
  /** Remaining lifetime in ms, null when kept forever, undefined when absent. */
  storedTtlMs(key: DcrKeyInput): Promise<number | null | undefined>;
  /** The stored text of an entry. */
  storedText(key: DcrKeyInput): Promise<string | undefined>;
  close(): Promise<void>;
}

async function embeddedBackend(): Promise<Backend> {
  const dir = await mkdtemp(join(tmpdir(), "pcl-dcr-contract-"));
  const store = await openEmbeddedStore(dir);
  const fileEntry = async (key: DcrKeyInput) => {
    const state = JSON.parse(await readFile(join(dir, EMBEDDED_DATA_FILE), "utf8")) as { dcr: Record<string, EmbeddedDcrEntry> };
    return state.dcr[encodeDcrKey(canonicalDcrKey(key))];
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
    close: () => store.close(),
  };
}

async function redisBackend(): Promise<Backend> {
  const { prefix, cleanup } = testRedisPrefix();
  const dcrPrefix = `${prefix}shared:`;
  const store = await openRedisStore({ url: TEST_REDIS_URL, prefix, dcrPrefix, commandTimeoutMs: 2000, startupTimeoutMs: 5000 });
  const raw = new Redis(TEST_REDIS_URL);
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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each([
  { name: "embedded", open: embeddedBackend },
  { name: "redis", open: redisBackend },
])("the DCR credential store on the $name backend", ({ open }) => {
  let backend: Backend;
  let dcr: DcrRegistry;
  const service = (sealer: SecretSealer = plainSealer) =>
    createDcrRegistry({
      store: backend.store.dcr,
      clock: Date.now,
      sealer,
      settings: { staleAfterMs: HOUR_MS, leaseTtlMs: 30_000, awaitMaxMs: 10_000, awaitPollMs: 20 },
    });
  let counter = 0;
  /** A key of this test's own, so tests never see each other's entries. */
  const freshKey = (overrides: Partial<DcrKeyInput> = {}): DcrKeyInput => ({
    ...EXAMPLE_KEY,
    issuer: `https://thv-${++counter}.example.com`,
    ...overrides,
  });

  beforeAll(async () => {
    backend = await open();
    dcr = service();
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("returns what was put, with the scope set as its canonical hash", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution(), "");
    const entry = await dcr.get({ ...key, scopes: ["profile", "openid"] });
    expect(entry.record).toMatchObject({
      key: { ...canonicalDcrKey(key), scopesHash: "e06d77376803ad66ce2f60db77f612061837ca694e408c52e9896012e07dd930" },
      clientId: "client-123",
      clientSecret: "s3cret-client-value",
      registrationAccessToken: "reg-access-token-value",
      providerName: "example-idp",
      tokenEndpointAuthMethod: "client_secret_basic",
    });
    expect(entry.record.createdAt).toBeGreaterThanOrEqual(nowSeconds() - 5);
    expect(entry.stale).toBe(false);
  });

  it("keeps entries apart that differ in any one key part", async () => {
    const base = freshKey();
    const variants: DcrKeyInput[] = [
      base,
      { ...base, upstreamId: "https://other-idp.example.com" },
      { ...base, redirectUri: `${base.redirectUri}/2` },
      { ...base, scopes: ["openid"] },
      { ...base, issuer: `${base.issuer}:8443` },
    ];
    await Promise.all(variants.map((key, index) => dcr.put(key, exampleResolution({ clientId: `client-${index}` }), "")));
    const clientIds = await Promise.all(variants.map(async (key) => (await dcr.get(key)).record.clientId));
    expect(clientIds).toEqual(variants.map((_, index) => `client-${index}`));
  });

  it("overwrites an entry with a second put", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientId: "first" }), "");
    await dcr.put(key, exampleResolution({ clientId: "second", clientSecret: "" }), "");
    const entry = await dcr.get(key);
    expect([entry.record.clientId, entry.record.clientSecret, entry.hasClientSecret]).toEqual(["second", "", false]);
  });

  it("answers NotFound for a key never put, and for a deleted one", async () => {
    const key = freshKey();
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await dcr.put(key, exampleResolution(), "");
    await dcr.delete(key);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await expect(dcr.delete(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ["key.issuer", { key: { issuer: "" } }],
    ["key.upstream_id", { key: { upstreamId: "" } }],
    ["key.redirect_uri", { key: { redirectUri: "" } }],
    ["key.scopes_hash", { key: { scopes: undefined, scopesHash: "" } }],
    ["key.scopes_hash", { key: { scopes: undefined, scopesHash: "E06D" } }],
    ["key.scopes", { key: { scopes: ["open id"] } }],
    ["resolution.client_id", { resolution: { clientId: "" } }],
    ["resolution.authorization_endpoint", { resolution: { authorizationEndpoint: "" } }],
    ["resolution.authorization_endpoint", { resolution: { authorizationEndpoint: "ftp://idp.example.com/a" } }],
    ["resolution.token_endpoint", { resolution: { tokenEndpoint: "" } }],
    ["resolution.redirect_uri", { resolution: { redirectUri: "https://elsewhere.example.com/cb" } }],
    ["resolution.client_secret_expires_at", { resolution: { clientSecretExpiresAt: -1 } }],
  ] as const)("rejects a put naming %s and stores nothing", async (field, change) => {
    const key = freshKey();
    const badKey = { ...key, ...("key" in change ? change.key : {}) };
    const resolution = exampleResolution("resolution" in change ? change.resolution : {});
    const failure = await dcr.put(badKey, resolution, "").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidArgumentError);
    expect((failure as InvalidArgumentError).field).toBe(field);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("rejects a put without a resolution", async () => {
    await expect(dcr.put(freshKey(), undefined, "")).rejects.toMatchObject({ field: "resolution" });
  });

  it("keeps an entry whose secret expires in the future until then", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() + 3600 }), "");
    const ttl = await backend.storedTtlMs(key);
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    expect((await dcr.get(key)).record.clientId).toBe("client-123");
  });

  it("keeps an entry whose secret never expires without a TTL", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: 0 }), "");
    expect(await backend.storedTtlMs(key)).toBeNull();
  });

  it("stores an entry whose secret expired for one second only, and never returns it", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() - 60 }), "");
    const ttl = await backend.storedTtlMs(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await sleep(1100);
    expect(await backend.storedTtlMs(key)).toBeUndefined();
  });

  it("marks entries older than the configured age stale, without evicting them", async () => {
    const oldKey = freshKey();
    const newKey = freshKey();
    await dcr.put(oldKey, exampleResolution({ createdAt: nowSeconds() - 7200 }), "");
    await dcr.put(newKey, exampleResolution(), "");
    expect((await dcr.get(oldKey)).stale).toBe(true);
    expect((await dcr.get(newKey)).stale).toBe(false);
  });

  it("lists entries without their secrets, filtered by issuer", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution(), "");
    await dcr.put({ ...key, upstreamId: "public-idp" }, exampleResolution({ clientSecret: "", registrationAccessToken: "" }), "");
    const listed = await dcr.list(key.issuer);
    expect(listed.map((entry) => [entry.record.key.upstreamId, entry.hasClientSecret]).sort()).toEqual([
      ["https://idp.example.com", true],
      ["public-idp", false],
    ]);
    for (const entry of listed) expect([entry.record.clientSecret, entry.record.registrationAccessToken]).toEqual(["", ""]);
    expect((await dcr.list("")).length).toBeGreaterThanOrEqual(2);
  });

  it("keeps every one of many concurrent puts to distinct keys", async () => {
    const issuer = freshKey().issuer;
    const keys = Array.from({ length: 25 }, (_, index) => ({ ...EXAMPLE_KEY, issuer, upstreamId: `idp-${index}` }));
    await Promise.all(keys.map((key, index) => dcr.put(key, exampleResolution({ clientId: `c-${index}` }), "")));
    const listed = await dcr.list(issuer);
    expect(listed.map((entry) => entry.record.clientId).sort()).toEqual(keys.map((_, index) => `c-${index}`).sort());
  });

  it("ends concurrent puts to one key with one whole entry", async () => {
    const key = freshKey();
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        dcr.put(key, exampleResolution({ clientId: `c-${index}`, clientSecret: `secret-${index}` }), ""),
      ),
    );
    const { record } = await dcr.get(key);
    expect(record.clientSecret).toBe(`secret-${record.clientId.slice(2)}`);
  });

  describe("registration lease", () => {
    it("grants one lease, tells the next caller it is held, and is released by the holder's put", async () => {
      const key = freshKey();
      const first = await dcr.acquire(key, 5000);
      expect("lease" in first).toBe(true);
      const second = await dcr.acquire(key, 5000);
      expect("held" in second).toBe(true);
      const leaseId = "lease" in first ? first.lease.leaseId : "";
      const { leaseReleased } = await dcr.put(key, exampleResolution({ clientId: "leader" }), leaseId);
      expect(leaseReleased).toBe(true);
      const third = await dcr.acquire(key, 5000);
      expect("entry" in third && third.entry.record.clientId).toBe("leader");
    });

    it("does not release a lease for a put that does not hold it", async () => {
      const key = freshKey();
      await dcr.acquire(key, 5000);
      const { leaseReleased } = await dcr.put(key, exampleResolution(), "not-the-lease");
      expect(leaseReleased).toBe(false);
      await dcr.delete(key);
      expect("held" in (await dcr.acquire(key, 5000))).toBe(true);
    });

    it("lets another caller take the lease once it expires without a put", async () => {
      const key = freshKey();
      expect("lease" in (await dcr.acquire(key, 1000))).toBe(true);
      expect(await dcr.await(key, 5000)).toEqual({ outcome: "lease_expired" });
      expect("lease" in (await dcr.acquire(key, 1000))).toBe(true);
    });

    it("takes a lease over an entry whose secret expired", async () => {
      const key = freshKey();
      await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() - 1 }), "");
      expect("lease" in (await dcr.acquire(key, 5000))).toBe(true);
    });

    it("wakes a waiter with the resolution the holder puts", async () => {
      const key = freshKey();
      const acquired = await dcr.acquire(key, 5000);
      const waiting = dcr.await(key, 5000);
      await sleep(100);
      await dcr.put(key, exampleResolution({ clientId: "from-leader" }), "lease" in acquired ? acquired.lease.leaseId : "");
      const result = await waiting;
      expect(result.outcome === "resolved" && result.entry.record.clientId).toBe("from-leader");
    });

    it("gives up waiting at the timeout while the lease is held", async () => {
      const key = freshKey();
      await dcr.acquire(key, 5000);
      expect(await dcr.await(key, 200)).toEqual({ outcome: "timeout" });
    });

    it("refuses lease lifetimes outside 1 s to 10 min", async () => {
      await expect(dcr.acquire(freshKey(), 10)).rejects.toMatchObject({ field: "ttl" });
      await expect(dcr.acquire(freshKey(), 3600_000)).rejects.toMatchObject({ field: "ttl" });
    });
  });

  describe("with envelope encryption", () => {
    const sealed = () => service(envelopeSealer(Buffer.alloc(32, 7)));

    it("stores secrets sealed and returns them plain", async () => {
      const key = freshKey();
      await sealed().put(key, exampleResolution(), "");
      const text = (await backend.storedText(key)) ?? "";
      expect(text).toContain("client-123");
      expect(text).not.toContain("s3cret-client-value");
      expect(text).not.toContain("reg-access-token-value");
      const { record } = await sealed().get(key);
      expect([record.clientSecret, record.registrationAccessToken]).toEqual(["s3cret-client-value", "reg-access-token-value"]);
    });

    it("refuses to hand out a sealed secret without the key, or with another key", async () => {
      const key = freshKey();
      await sealed().put(key, exampleResolution(), "");
      await expect(service().get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
      await expect(service(envelopeSealer(Buffer.alloc(32, 8))).get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
    });

    it("still reads entries written plain before encryption was turned on", async () => {
      const key = freshKey();
      await service().put(key, exampleResolution(), "");
      expect((await sealed().get(key)).record.clientSecret).toBe("s3cret-client-value");
    });
  });
});
