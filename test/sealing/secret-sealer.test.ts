import { describe, expect, it } from "vitest";
import { FailedPreconditionError } from "../../src/errors.js";
import { resealedValue } from "../../src/sealing/reseal.js";
import { derivedKeyId, envelopeSealer, isSealed, keyRing, plainSealer } from "../../src/sealing/secret-sealer.js";

const K1 = { id: "k1", key: Buffer.alloc(32, 1) };
const K2 = { id: "k2", key: Buffer.alloc(32, 2) };
const CONTEXT = "dcr:entry#client_secret";

describe("the key ring", () => {
  it("seals with the sealing key and opens values sealed with any key of the ring", () => {
    const sealedWithK1 = keyRing([K1], "k1").seal("s3cret", CONTEXT);
    const rotated = keyRing([K1, K2], "k2");
    const sealedWithK2 = rotated.seal("s3cret", CONTEXT);
    expect(sealedWithK1).toMatch(/^pcl-enc:v1:k1:/);
    expect(sealedWithK2).toMatch(/^pcl-enc:v1:k2:/);
    expect(sealedWithK2).not.toContain("s3cret");
    expect([rotated.open(sealedWithK1, CONTEXT), rotated.open(sealedWithK2, CONTEXT)]).toEqual(["s3cret", "s3cret"]);
  });

  it("refuses a value sealed with a key id it does not hold, naming the id", () => {
    const sealed = keyRing([K1], "k1").seal("s3cret", CONTEXT);
    const open = () => keyRing([K2], "k2").open(sealed, CONTEXT);
    expect(open).toThrow(FailedPreconditionError);
    expect(open).toThrow(/^secret_key_unknown: a stored secret was sealed with key id k1/);
  });

  it("refuses a value opened under another context", () => {
    const ring = keyRing([K1], "k1");
    expect(() => ring.open(ring.seal("s3cret", CONTEXT), "dcr:other#client_secret")).toThrow(/^secret_sealed: .*does not decrypt/);
  });

  it("refuses a tampered value, a value relabelled with another key id, and a value with extra parts", () => {
    const ring = keyRing([K1, K2], "k1");
    const sealed = ring.seal("s3cret", CONTEXT);
    const [mark, version, , dataKey, value] = sealed.split(":");
    const flipped = value!.slice(0, -2) + (value!.at(-2) === "A" ? "B" : "A") + value!.at(-1);
    for (const damaged of [
      `${mark}:${version}:k1:${dataKey}:${flipped}`,
      `${mark}:${version}:k2:${dataKey}:${value}`,
      `${sealed}:extra`,
      `${mark}:${version}:k1:${dataKey}`,
    ]) {
      expect(() => ring.open(damaged, CONTEXT)).toThrow(/^secret_sealed: /);
    }
  });

  it("seals the same value differently each time", () => {
    const ring = keyRing([K1], "k1");
    expect(ring.seal("s3cret", CONTEXT)).not.toBe(ring.seal("s3cret", CONTEXT));
  });

  it("passes plain values through on open and leaves empty values empty", () => {
    const ring = keyRing([K1], "k1");
    expect(ring.open("legacy-plain", CONTEXT)).toBe("legacy-plain");
    expect(ring.seal("", CONTEXT)).toBe("");
  });

  it("calls plain and older-key values stale, and never empty ones or those under the sealing key", () => {
    const ring = keyRing([K1, K2], "k2");
    expect(ring.isStale("plain")).toBe(true);
    expect(ring.isStale(keyRing([K1], "k1").seal("x", CONTEXT))).toBe(true);
    expect(ring.isStale(ring.seal("x", CONTEXT))).toBe(false);
    expect(ring.isStale("")).toBe(false);
    expect(plainSealer.isStale("plain")).toBe(false);
  });

  it("re-seals a stale value under the sealing key and leaves a current one", () => {
    const ring = keyRing([K1, K2], "k2");
    const resealed = resealedValue(ring, keyRing([K1], "k1").seal("s3cret", CONTEXT), CONTEXT);
    expect(resealed).toMatch(/^pcl-enc:v1:k2:/);
    expect(ring.open(resealed!, CONTEXT)).toBe("s3cret");
    expect(resealedValue(ring, resealed!, CONTEXT)).toBeUndefined();
    expect(() => resealedValue(ring, keyRing([{ id: "k3", key: Buffer.alloc(32, 3) }], "k3").seal("x", CONTEXT), CONTEXT)).toThrow(
      /secret_key_unknown/,
    );
  });

  it("opens values of the single-key sealer under the key's derived id, as dcr.encryption_key wrote them", () => {
    const sealed = envelopeSealer(K1.key).seal("s3cret", CONTEXT);
    expect(sealed.startsWith(`pcl-enc:v1:${derivedKeyId(K1.key)}:`)).toBe(true);
    expect(keyRing([K2, { id: derivedKeyId(K1.key), key: K1.key }], "k2").open(sealed, CONTEXT)).toBe("s3cret");
  });

  it("refuses to read a sealed value as plain when no key is configured", () => {
    const sealed = keyRing([K1], "k1").seal("s3cret", CONTEXT);
    expect(isSealed(sealed)).toBe(true);
    expect(() => plainSealer.open(sealed, CONTEXT)).toThrow(/^secret_sealed: .*no encryption key is configured/);
  });

  it("refuses a ring whose sealing key is missing or whose ids repeat", () => {
    expect(() => keyRing([K1], "k2")).toThrow();
    expect(() => keyRing([K1, { ...K2, id: "k1" }], "k1")).toThrow();
  });
});
