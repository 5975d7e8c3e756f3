import { expect, it } from "vitest";
import { FailedPreconditionError } from "../../src/errors.js";
import { resealDcrEntries } from "../../src/oauth/dcr-reseal.js";
import { envelopeSealer, keyRing } from "../../src/sealing/secret-sealer.js";
import { describeDcrContract } from "../support/dcr-backends.js";
import { exampleResolution, nowSeconds } from "../support/dcr-fixtures.js";

const K1 = { id: "k1", key: Buffer.alloc(32, 1) };
const K2 = { id: "k2", key: Buffer.alloc(32, 2) };

describeDcrContract("envelope encryption", ({ backend, registry, freshKey }) => {
  const sealed = () => registry(envelopeSealer(Buffer.alloc(32, 7)));

  it("stores secrets sealed and returns them plain", async () => {
    const key = freshKey();
    await sealed().put(key, exampleResolution(), "");
    const text = (await backend().storedText(key)) ?? "";
    expect(text).toContain("client-123");
    expect(text).not.toContain("s3cret-client-value");
    expect(text).not.toContain("reg-access-token-value");
    const { record } = await sealed().get(key);
    expect([record.clientSecret, record.registrationAccessToken]).toEqual(["s3cret-client-value", "reg-access-token-value"]);
  });

  it("refuses to hand out a sealed secret without the key, or with another key", async () => {
    const key = freshKey();
    await sealed().put(key, exampleResolution(), "");
    await expect(registry().get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(registry(envelopeSealer(Buffer.alloc(32, 8))).get(key)).rejects.toBeInstanceOf(FailedPreconditionError);
  });

  it("still reads entries written plain before encryption was turned on", async () => {
    const key = freshKey();
    await registry().put(key, exampleResolution(), "");
    expect((await sealed().get(key)).record.clientSecret).toBe("s3cret-client-value");
  });

  it("re-seals entries stored plain or under a retired key with the sealing key, keeping their eviction time", async () => {
    const underK1 = freshKey();
    const plain = freshKey();
    const expiring = exampleResolution({ clientSecretExpiresAt: nowSeconds() + 3600 });
    await registry(keyRing([K1], "k1")).put(underK1, expiring, "");
    await registry().put(plain, exampleResolution(), "");
    const ttlBefore = (await backend().storedTtlMs(underK1)) ?? 0;

    const rotated = keyRing([K1, K2], "k2");
    const outcome = await resealDcrEntries(backend().store.dcr, rotated, Date.now());
    expect(outcome.resealed).toBeGreaterThanOrEqual(2);
    for (const key of [underK1, plain]) {
      const text = (await backend().storedText(key)) ?? "";
      expect(text).not.toContain("s3cret-client-value");
      expect(text.match(/pcl-enc:v1:(\w+):/g)).toEqual(["pcl-enc:v1:k2:", "pcl-enc:v1:k2:"]);
      const { record } = await registry(keyRing([K2], "k2")).get(key);
      expect([record.clientSecret, record.registrationAccessToken]).toEqual(["s3cret-client-value", "reg-access-token-value"]);
    }
    const ttlAfter = (await backend().storedTtlMs(underK1)) ?? 0;
    expect(ttlAfter).toBeGreaterThan(0);
    expect(ttlAfter).toBeLessThanOrEqual(ttlBefore);
    const again = await resealDcrEntries(backend().store.dcr, rotated, Date.now());
    expect(again.failures.filter((failure) => failure.includes(plain.issuer) || failure.includes(underK1.issuer))).toEqual([]);
    expect((await backend().storedText(underK1)) ?? "").toContain("pcl-enc:v1:k2:");
  });

  it("leaves an entry no configured key opens as it is, and names it", async () => {
    const key = freshKey();
    await registry(keyRing([K1], "k1")).put(key, exampleResolution(), "");
    const stored = await backend().storedText(key);
    const outcome = await resealDcrEntries(backend().store.dcr, keyRing([K2], "k2"), Date.now());
    expect(outcome.failures).toContainEqual(expect.stringMatching(new RegExp(`${key.issuer}: secret_key_unknown: .*key id k1`)));
    expect(await backend().storedText(key)).toBe(stored);
  });
});
