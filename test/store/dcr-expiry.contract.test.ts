import { beforeAll, expect, it } from "vitest";
import { NotFoundError } from "../../src/errors.js";
import type { DcrRegistry } from "../../src/oauth/dcr-registry.js";
import { describeDcrContract } from "../support/dcr-backends.js";
import { exampleResolution, nowSeconds } from "../support/dcr-fixtures.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeDcrContract("expiry and staleness", ({ backend, registry, freshKey }) => {
  let dcr: DcrRegistry;
  beforeAll(() => {
    dcr = registry();
  });

  it("keeps an entry whose secret expires in the future until then", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() + 3600 }), "");
    const ttl = await backend().storedTtlMs(key);
    expect(ttl).toBeGreaterThan(3500_000);
    expect(ttl).toBeLessThanOrEqual(3600_000);
    expect((await dcr.get(key)).record.clientId).toBe("client-123");
  });

  it("keeps an entry whose secret never expires without a TTL", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: 0 }), "");
    expect(await backend().storedTtlMs(key)).toBeNull();
  });

  it("stores an entry whose secret expired for one second only, and never returns it", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() - 60 }), "");
    const ttl = await backend().storedTtlMs(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await sleep(1100);
    expect(await backend().storedTtlMs(key)).toBeUndefined();
  });

  it("marks entries older than the configured age stale, without evicting them", async () => {
    const oldKey = freshKey();
    const newKey = freshKey();
    await dcr.put(oldKey, exampleResolution({ createdAt: nowSeconds() - 7200 }), "");
    await dcr.put(newKey, exampleResolution(), "");
    expect((await dcr.get(oldKey)).stale).toBe(true);
    expect((await dcr.get(newKey)).stale).toBe(false);
  });
});
