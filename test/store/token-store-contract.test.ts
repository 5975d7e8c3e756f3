import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { AlreadyExistsError } from "../../src/errors.js";
import type { StoredToken } from "../../src/model/token.js";
import { describeStoreContract } from "../support/store-backends.js";

function aToken(overrides: Partial<StoredToken> = {}): StoredToken {
  return {
    id: `tok_${randomBytes(11).toString("hex")}`,
    hash: randomBytes(32).toString("hex"),
    scopes: ["kafka:read"],
    name: "contract",
    allowedLibraries: ["lib-1"],
    allowedTools: [],
    source: "minted",
    createdAt: 1_700_000_000_000,
    ...overrides,
  };
}

describeStoreContract("token", ({ store, reopen }) => {
  it("returns an inserted token exactly as it was given", async () => {
    const token = aToken({ expiresAt: 1_800_000_000_000, allowedTools: ["search"] });
    await store().tokens.insert(token);
    expect(await store().tokens.get(token.id)).toEqual(token);
  });

  it("answers undefined for an id it never stored", async () => {
    expect(await store().tokens.get("tok_missing")).toBeUndefined();
  });

  it("lists every token oldest first, tokens created in the same millisecond by id", async () => {
    const tokens = [
      aToken({ id: "tok_c", createdAt: 3 }),
      aToken({ id: "tok_b", createdAt: 1 }),
      aToken({ id: "tok_z", createdAt: 2 }),
      aToken({ id: "tok_a", createdAt: 2 }),
    ];
    for (const token of tokens) await store().tokens.insert(token);
    expect((await store().tokens.list()).map((token) => token.id)).toEqual(["tok_b", "tok_a", "tok_z", "tok_c"]);
  });

  it("refuses a second token with a taken id and keeps the first unchanged", async () => {
    const first = aToken();
    await store().tokens.insert(first);
    const intruder = aToken({ id: first.id, name: "intruder" });
    await expect(store().tokens.insert(intruder)).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await store().tokens.get(first.id)).toEqual(first);
    expect(await store().tokens.list()).toEqual([first]);
  });

  it("keeps what it stores apart from what callers hold: changing an inserted, fetched or listed token changes nothing stored", async () => {
    const token = aToken();
    await store().tokens.insert(token);
    token.scopes.push("inserted-afterwards");
    const fetched = (await store().tokens.get(token.id)) as StoredToken;
    // The embedded backend hands out its record frozen: there the change throws instead.
    try {
      fetched.scopes.push("changed-after-get");
    } catch (error) {
      expect(error).toBeInstanceOf(TypeError);
    }
    (await store().tokens.list())[0]!.name = "changed-after-list";
    expect(await store().tokens.get(token.id)).toEqual({ ...token, scopes: ["kafka:read"] });
  });

  it("revokes a token once: the first revoke returns it revoked, a second finds nothing", async () => {
    const token = aToken();
    await store().tokens.insert(token);
    expect(await store().tokens.revoke(token.id, 5_000)).toEqual({ ...token, revokedAt: 5_000 });
    expect(await store().tokens.revoke(token.id, 6_000)).toBeUndefined();
    expect(await store().tokens.get(token.id)).toEqual({ ...token, revokedAt: 5_000 });
  });

  it("revokes only one of two racing revokes", async () => {
    const token = aToken();
    await store().tokens.insert(token);
    const outcomes = await Promise.all([store().tokens.revoke(token.id, 1), store().tokens.revoke(token.id, 2)]);
    expect(outcomes.filter((outcome) => outcome !== undefined)).toHaveLength(1);
  });

  it("finds nothing to revoke for an unknown id and creates nothing", async () => {
    expect(await store().tokens.revoke("tok_missing", 1)).toBeUndefined();
    expect(await store().tokens.get("tok_missing")).toBeUndefined();
    expect(await store().tokens.list()).toEqual([]);
  });

  it("records the latest use of a token", async () => {
    const token = aToken();
    await store().tokens.insert(token);
    await store().tokens.touch(token.id, 7_000);
    await store().tokens.touch(token.id, 8_000);
    expect(await store().tokens.get(token.id)).toEqual({ ...token, lastUsedAt: 8_000 });
  });

  it("ignores a use of an unknown token without creating it", async () => {
    await store().tokens.touch("tok_missing", 7_000);
    expect(await store().tokens.get("tok_missing")).toBeUndefined();
    expect(await store().tokens.list()).toEqual([]);
  });

  it("keeps a revoked token revoked when it is used afterwards", async () => {
    const token = aToken();
    await store().tokens.insert(token);
    await store().tokens.revoke(token.id, 5_000);
    await store().tokens.touch(token.id, 6_000);
    expect(await store().tokens.get(token.id)).toEqual({ ...token, revokedAt: 5_000, lastUsedAt: 6_000 });
  });

  it("creates the bootstrap token only once", async () => {
    const first = aToken({ source: "bootstrap", scopes: ["*"] });
    const second = aToken({ source: "bootstrap", scopes: ["*"] });
    expect(await store().tokens.claimBootstrap(first)).toBe(true);
    expect(await store().tokens.claimBootstrap(second)).toBe(false);
    expect(await store().tokens.list()).toEqual([first]);
  });

  it("lets exactly one of two racing bootstrap claims win", async () => {
    const contenders = [aToken({ source: "bootstrap" }), aToken({ source: "bootstrap" })];
    const outcomes = await Promise.all(contenders.map((token) => store().tokens.claimBootstrap(token)));
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = contenders[outcomes.indexOf(true)];
    expect(await store().tokens.list()).toEqual([winner]);
  });

  it("never creates a second bootstrap token, even after the first was revoked", async () => {
    const first = aToken({ source: "bootstrap" });
    await store().tokens.claimBootstrap(first);
    await store().tokens.revoke(first.id, 1);
    expect(await store().tokens.claimBootstrap(aToken({ source: "bootstrap" }))).toBe(false);
    expect(await store().tokens.list()).toHaveLength(1);
  });

  it("refuses a bootstrap claim whose id is taken by another token", async () => {
    const existing = aToken();
    await store().tokens.insert(existing);
    await expect(store().tokens.claimBootstrap(aToken({ id: existing.id, source: "bootstrap" }))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    expect(await store().tokens.list()).toEqual([existing]);
    expect(await store().tokens.claimBootstrap(aToken({ source: "bootstrap" }))).toBe(true);
  });

  it("keeps all of 50 concurrent inserts", async () => {
    const tokens = Array.from({ length: 50 }, (_, index) => aToken({ createdAt: 1_000 + index }));
    await Promise.all(tokens.map((token) => store().tokens.insert(token)));
    expect(await store().tokens.list()).toEqual(tokens);
    for (const token of tokens) expect(await store().tokens.get(token.id)).toEqual(token);
  });

  it("keeps every change across a restart, the bootstrap claim included", async () => {
    const bootstrap = aToken({ source: "bootstrap", createdAt: 1 });
    const minted = aToken({ createdAt: 2 });
    await store().tokens.claimBootstrap(bootstrap);
    await store().tokens.insert(minted);
    await store().tokens.revoke(minted.id, 10);
    await store().tokens.touch(bootstrap.id, 11);
    const restarted = await reopen();
    expect(await restarted.tokens.list()).toEqual([{ ...bootstrap, lastUsedAt: 11 }, { ...minted, revokedAt: 10 }]);
    expect(await restarted.tokens.claimBootstrap(aToken({ source: "bootstrap" }))).toBe(false);
  });
});
