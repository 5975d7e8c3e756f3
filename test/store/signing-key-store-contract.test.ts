import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { AlreadyExistsError } from "../../src/errors.js";
import type { StoredSigningKey } from "../../src/model/signing-key.js";
import { describeStoreContract } from "../support/store-backends.js";

function aKey(overrides: Partial<StoredSigningKey> = {}): StoredSigningKey {
  return {
    kid: `kid-${randomBytes(6).toString("hex")}`,
    algorithm: "HS256",
    secret: randomBytes(32).toString("base64url"),
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

describeStoreContract("signing key", ({ store, reopen }) => {
  it("returns a created key with its material, as the active key", async () => {
    const key = aKey({ algorithm: "ES256", publicJwk: { kty: "EC", crv: "P-256", x: "x", y: "y" } });
    await store().signingKeys.create(key);
    expect(await store().signingKeys.get(key.kid)).toEqual({ ...key, state: "active" });
    expect(await store().signingKeys.active()).toEqual({ ...key, state: "active" });
  });

  it("makes a new key the signing one and keeps the previous one for verifying only", async () => {
    const first = aKey({ kid: "a", createdAt: 1 });
    const second = aKey({ kid: "b", createdAt: 2 });
    await store().signingKeys.create(first);
    await store().signingKeys.create(second);
    expect((await store().signingKeys.list()).map((key) => [key.kid, key.state])).toEqual([
      ["a", "verify_only"],
      ["b", "active"],
    ]);
    expect((await store().signingKeys.active())?.kid).toBe("b");
  });

  it("refuses a taken kid and keeps the first key unchanged", async () => {
    const key = aKey();
    await store().signingKeys.create(key);
    await expect(store().signingKeys.create({ ...key, secret: "other" })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store().signingKeys.get(key.kid))?.secret).toBe(key.secret);
  });

  it("retires a key once, leaving no active key when it was the signing one", async () => {
    const key = aKey();
    await store().signingKeys.create(key);
    expect(await store().signingKeys.retire(key.kid, 5)).toEqual({ ...key, retiredAt: 5, state: "retired" });
    expect(await store().signingKeys.retire(key.kid, 6)).toBeUndefined();
    expect(await store().signingKeys.retire("missing", 6)).toBeUndefined();
    expect(await store().signingKeys.active()).toBeUndefined();
    expect((await store().signingKeys.get(key.kid))?.state).toBe("retired");
  });

  it("keeps keys and states across a restart", async () => {
    await store().signingKeys.create(aKey({ kid: "old", createdAt: 1 }));
    await store().signingKeys.create(aKey({ kid: "new", createdAt: 2 }));
    await store().signingKeys.retire("old", 3);
    const reopened = await reopen();
    expect((await reopened.signingKeys.list()).map((key) => [key.kid, key.state])).toEqual([
      ["old", "retired"],
      ["new", "active"],
    ]);
  });

  it("ends with exactly one active key when many are created at once", async () => {
    const keys = Array.from({ length: 20 }, (_, index) => aKey({ kid: `k${String(index).padStart(2, "0")}`, createdAt: index }));
    await Promise.all(keys.map((key) => store().signingKeys.create(key)));
    const states = (await store().signingKeys.list()).map((key) => key.state);
    expect(states.filter((state) => state === "active")).toHaveLength(1);
    expect(states.filter((state) => state === "verify_only")).toHaveLength(19);
  });
});
