import { jwtVerify, SignJWT } from "jose";
import { expect, it } from "vitest";
import { generateSigningKey, signingMaterial, verificationMaterial } from "../../src/credentials/jwt/signing-key-material.js";
import { FailedPreconditionError } from "../../src/errors.js";
import type { StoredSigningKey } from "../../src/model/signing-key.js";
import { resealSigningKeys, sealedSigningKeyStore } from "../../src/sealing/sealed-signing-keys.js";
import { keyRing, plainSealer, type KeyRing } from "../../src/sealing/secret-sealer.js";
import { describeStoreContract } from "../support/store-backends.js";

const K1 = { id: "k1", key: Buffer.alloc(32, 1) };
const K2 = { id: "k2", key: Buffer.alloc(32, 2) };
const firstRing = keyRing([K1], "k1");
const rotatedRing = keyRing([K1, K2], "k2");
const secondRing = keyRing([K2], "k2");

/** What must never be stored clear: the HMAC secret, or the private JWK's `d`. */
function privateMaterial(key: StoredSigningKey): string {
  return key.algorithm === "HS256" ? key.secret : (JSON.parse(key.secret) as { d: string }).d;
}

async function signsAndVerifies(key: StoredSigningKey): Promise<string> {
  const jwt = await new SignJWT({ sub: "team" }).setProtectedHeader({ alg: key.algorithm, kid: key.kid }).sign(await signingMaterial(key));
  return (await jwtVerify(jwt, await verificationMaterial(key))).payload.sub as string;
}

describeStoreContract("sealed signing key", ({ store, reopen, storedText }) => {
  const sealed = (ring: KeyRing) => sealedSigningKeyStore(store().signingKeys, ring);

  it("stores no private key material in clear and hands it back opened for signing, with the public JWK clear", async () => {
    const keys = [await generateSigningKey("HS256", 1), await generateSigningKey("ES256", 2)];
    for (const key of keys) await sealed(firstRing).create(key);
    const text = await storedText();
    for (const key of keys) {
      expect(text).toContain(key.kid);
      expect(text).not.toContain(privateMaterial(key));
      expect((await sealed(firstRing).get(key.kid))?.secret).toBe(key.secret);
      expect(await signsAndVerifies((await sealed(firstRing).get(key.kid))!)).toBe("team");
    }
    expect(text).toContain(keys[1]!.publicJwk!.x);
    expect((await sealed(firstRing).active())?.secret).toBe(keys[1]!.secret);
    expect((await sealed(firstRing).list()).map((key) => key.secret)).toEqual(keys.map((key) => key.secret));
  });

  it("refuses a sealed secret copied into another key's record", async () => {
    const original = await generateSigningKey("HS256", 1);
    await sealed(firstRing).create(original);
    const stolen = (await store().signingKeys.get(original.kid))!.secret;
    await store().signingKeys.create({ ...(await generateSigningKey("HS256", 2)), kid: "copy", secret: stolen });
    await expect(sealed(firstRing).get("copy")).rejects.toThrow(/secret_sealed: a stored secret does not decrypt/);
  });

  it("keeps a key stored clear working and re-seals it once, under the sealing key", async () => {
    const key = await generateSigningKey("ES256", 1);
    await store().signingKeys.create(key);
    expect(await storedText()).toContain(privateMaterial(key));
    expect((await sealed(firstRing).get(key.kid))?.secret).toBe(key.secret);

    expect(await resealSigningKeys(store().signingKeys, firstRing)).toEqual({ resealed: 1, failures: [] });
    expect(await storedText()).not.toContain(privateMaterial(key));
    expect(await signsAndVerifies((await sealed(firstRing).get(key.kid))!)).toBe("team");
    expect(await resealSigningKeys(store().signingKeys, firstRing)).toEqual({ resealed: 0, failures: [] });
  });

  it("opens keys sealed with the previous key after a rotation and a restart, and re-seals them under the new one", async () => {
    const kept = await generateSigningKey("ES256", 1);
    const retired = await generateSigningKey("HS256", 2);
    await sealed(firstRing).create(retired);
    await sealed(firstRing).create(kept);
    await sealed(firstRing).retire(retired.kid, 3);
    await reopen();

    expect((await sealed(rotatedRing).get(kept.kid))?.secret).toBe(kept.secret);
    expect(await resealSigningKeys(store().signingKeys, rotatedRing)).toEqual({ resealed: 2, failures: [] });
    for (const key of await store().signingKeys.list()) expect(key.secret).toMatch(/^pcl-enc:v1:k2:/);
    await reopen();
    expect(await signsAndVerifies((await sealed(secondRing).active())!)).toBe("team");
    expect((await sealed(secondRing).get(retired.kid))).toMatchObject({ secret: retired.secret, state: "retired" });
    await expect(sealed(firstRing).get(kept.kid)).rejects.toThrow(/secret_key_unknown: .*key id k2/);
  });

  it("re-seals each key exactly once when several replicas re-seal at the same time", async () => {
    const keys = await Promise.all([1, 2, 3, 4].map((at) => generateSigningKey(at % 2 === 0 ? "HS256" : "ES256", at)));
    for (const key of keys) await sealed(firstRing).create(key);
    const outcomes = await Promise.all([1, 2, 3].map(() => resealSigningKeys(store().signingKeys, rotatedRing)));
    expect(outcomes.reduce((sum, outcome) => sum + outcome.resealed, 0)).toBe(keys.length);
    expect(outcomes.flatMap((outcome) => outcome.failures)).toEqual([]);
    for (const key of keys) expect((await sealed(secondRing).get(key.kid))?.secret).toBe(key.secret);
  });

  it("leaves a key no configured key opens as it is, and names it", async () => {
    const key = await generateSigningKey("HS256", 1);
    await sealed(firstRing).create(key);
    const stored = (await store().signingKeys.get(key.kid))!.secret;
    const outcome = await resealSigningKeys(store().signingKeys, secondRing);
    expect(outcome.resealed).toBe(0);
    expect(outcome.failures).toEqual([expect.stringMatching(new RegExp(`signing key ${key.kid}: secret_key_unknown: .*key id k1`))]);
    expect((await store().signingKeys.get(key.kid))?.secret).toBe(stored);
  });

  it("refuses a sealed key when no encryption key is configured, never reading it as plain", async () => {
    const key = await generateSigningKey("HS256", 1);
    await sealed(firstRing).create(key);
    await expect(sealed(plainSealer).get(key.kid)).rejects.toBeInstanceOf(FailedPreconditionError);
    expect(await resealSigningKeys(store().signingKeys, plainSealer)).toEqual({ resealed: 0, failures: [] });
  });
});
