import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import { AbortedError } from "../../src/errors.js";
import type { UpstreamTokenKey, UpstreamTokenRecord } from "../../src/model/upstream-token.js";
import { resealUpstreamTokens } from "../../src/oauth/upstream-token-reseal.js";
import { upstreamTokenSecretContext } from "../../src/oauth/upstream-token-vault.js";
import { keyRing, type KeyRing } from "../../src/sealing/secret-sealer.js";
import type { UpstreamTokenStore } from "../../src/store/upstream-token-store.js";
import { describeStoreContract } from "../support/store-backends.js";

function entry(principal: string, upstreamId: string, accessToken = "sealed-access"): UpstreamTokenRecord {
  return {
    principal,
    upstreamId,
    accessToken,
    refreshToken: "sealed-refresh",
    tokenType: "Bearer",
    scopes: ["read"],
    expiresAt: 2_000_000,
    createdAt: 1_000_000,
    refreshedAt: 1_000_000,
    tokenEndpoint: "https://idp.example/token",
    clientId: "client",
    tokenEndpointAuthMethod: "none",
    clientSecret: "",
    resource: "",
  };
}

const principal = () => `token:tok_${randomBytes(6).toString("hex")}`;

const K1 = { id: "k1", key: Buffer.alloc(32, 1) };
const K2 = { id: "k2", key: Buffer.alloc(32, 2) };
const firstRing = keyRing([K1], "k1");
const rotatedRing = keyRing([K1, K2], "k2");
const secondRing = keyRing([K2], "k2");

/** The secrets of one entry, in clear, each naming its entry so that no two entries share one. */
const secretsOf = (key: UpstreamTokenKey) => {
  const tag = `${key.principal}/${key.upstreamId}`;
  return { accessToken: `access-secret ${tag}`, refreshToken: `refresh-secret ${tag}`, clientSecret: `client-secret ${tag}` };
};

/** An entry as the vault keeps it: its secrets sealed by `ring`. */
function sealedEntry(key: UpstreamTokenKey, ring: KeyRing): UpstreamTokenRecord {
  const plain = secretsOf(key);
  return {
    ...entry(key.principal, key.upstreamId),
    accessToken: ring.seal(plain.accessToken, upstreamTokenSecretContext(key, "access_token")),
    refreshToken: ring.seal(plain.refreshToken, upstreamTokenSecretContext(key, "refresh_token")),
    clientSecret: ring.seal(plain.clientSecret, upstreamTokenSecretContext(key, "client_secret")),
  };
}

/** The entry's secrets opened by `ring`. */
function opened(record: UpstreamTokenRecord, ring: KeyRing) {
  return {
    accessToken: ring.open(record.accessToken, upstreamTokenSecretContext(record, "access_token")),
    refreshToken: ring.open(record.refreshToken, upstreamTokenSecretContext(record, "refresh_token")),
    clientSecret: ring.open(record.clientSecret, upstreamTokenSecretContext(record, "client_secret")),
  };
}

async function scanned(store: UpstreamTokenStore): Promise<string[]> {
  const seen: string[] = [];
  await store.scan(async (records) => {
    seen.push(...records.map((record) => `${record.principal} ${record.upstreamId}`));
  });
  return seen.sort();
}

describeStoreContract("upstream token", ({ store, reopen, storedText }) => {
  it("keeps an entry under its principal and upstream id, across a restart", async () => {
    const owner = principal();
    await store().upstreamTokens.put(entry(owner, "github"));
    await reopen();
    expect(await store().upstreamTokens.get({ principal: owner, upstreamId: "github" })).toEqual(entry(owner, "github"));
    expect(await store().upstreamTokens.get({ principal: owner, upstreamId: "gitlab" })).toBeUndefined();
    expect(await store().upstreamTokens.get({ principal: principal(), upstreamId: "github" })).toBeUndefined();
  });

  it("tells apart principals and upstream ids that would read alike if joined with a colon", async () => {
    await store().upstreamTokens.put(entry("a:b", "c", "first"));
    await store().upstreamTokens.put(entry("a", "b:c", "second"));
    expect((await store().upstreamTokens.get({ principal: "a:b", upstreamId: "c" }))?.accessToken).toBe("first");
    expect((await store().upstreamTokens.get({ principal: "a", upstreamId: "b:c" }))?.accessToken).toBe("second");
  });

  it("lists the entries of one principal only, and deletes one or all of them", async () => {
    const owner = principal();
    const other = principal();
    await store().upstreamTokens.put(entry(owner, "gitlab"));
    await store().upstreamTokens.put(entry(owner, "github"));
    await store().upstreamTokens.put(entry(other, "github"));
    expect((await store().upstreamTokens.list(owner)).map((record) => record.upstreamId)).toEqual(["github", "gitlab"]);

    expect(await store().upstreamTokens.delete({ principal: owner, upstreamId: "gitlab" })).toBe(true);
    expect(await store().upstreamTokens.delete({ principal: owner, upstreamId: "gitlab" })).toBe(false);
    await store().upstreamTokens.put(entry(owner, "jira"));
    expect(await store().upstreamTokens.deleteAll(owner)).toBe(2);
    expect(await store().upstreamTokens.list(owner)).toEqual([]);
    expect(await store().upstreamTokens.deleteAll(owner)).toBe(0);
    expect((await store().upstreamTokens.list(other)).map((record) => record.upstreamId)).toEqual(["github"]);
  });

  it("grants one refresh lease at a time, and a put under it releases it", async () => {
    const key = { principal: principal(), upstreamId: "github" };
    await store().upstreamTokens.put(entry(key.principal, key.upstreamId));
    expect(await store().upstreamTokens.acquireLease(key, "first", 10_000, Date.now())).toBe(true);
    expect(await store().upstreamTokens.acquireLease(key, "second", 10_000, Date.now())).toBe(false);
    expect(await store().upstreamTokens.put(entry(key.principal, key.upstreamId, "refreshed"), "first")).toBe(true);
    expect((await store().upstreamTokens.get(key))?.accessToken).toBe("refreshed");
    expect(await store().upstreamTokens.acquireLease(key, "third", 10_000, Date.now())).toBe(true);
  });

  it("refuses a put under a lease that is not the entry's and writes nothing", async () => {
    const key = { principal: principal(), upstreamId: "github" };
    await store().upstreamTokens.put(entry(key.principal, key.upstreamId, "original"));
    await store().upstreamTokens.acquireLease(key, "holder", 10_000, Date.now());
    expect(await store().upstreamTokens.put(entry(key.principal, key.upstreamId, "late"), "not-the-holder")).toBe(false);
    expect((await store().upstreamTokens.get(key))?.accessToken).toBe("original");
  });

  it("releases a lease only for its holder", async () => {
    const key = { principal: principal(), upstreamId: "github" };
    await store().upstreamTokens.acquireLease(key, "holder", 10_000, Date.now());
    await store().upstreamTokens.releaseLease(key, "someone-else");
    expect(await store().upstreamTokens.acquireLease(key, "next", 10_000, Date.now())).toBe(false);
    await store().upstreamTokens.releaseLease(key, "holder");
    expect(await store().upstreamTokens.acquireLease(key, "next", 10_000, Date.now())).toBe(true);
  });

  it("hands over every entry of every principal once when scanning the whole vault", async () => {
    const first = principal();
    const second = principal();
    for (const [owner, upstreamId] of [[first, "github"], [first, "gitlab"], [second, "github"]] as const) {
      await store().upstreamTokens.put(entry(owner, upstreamId));
    }
    expect(await scanned(store().upstreamTokens)).toEqual([`${first} github`, `${first} gitlab`, `${second} github`].sort());
  });

  it("re-seals every entry under an older key with the sealing key, keeping the rest of it, once and across a restart", async () => {
    const keys = [principal(), principal()].flatMap((owner) => ["github", "gitlab"].map((upstreamId) => ({ principal: owner, upstreamId })));
    for (const key of keys) await store().upstreamTokens.put(sealedEntry(key, firstRing));

    expect(await resealUpstreamTokens(store().upstreamTokens, rotatedRing)).toEqual({ resealed: keys.length, failures: [] });
    await reopen();
    const text = await storedText();
    for (const key of keys) {
      const record = (await store().upstreamTokens.get(key))!;
      expect(record).toEqual({ ...sealedEntry(key, firstRing), accessToken: record.accessToken, refreshToken: record.refreshToken, clientSecret: record.clientSecret });
      for (const sealed of [record.accessToken, record.refreshToken, record.clientSecret]) expect(sealed).toMatch(/^pcl-enc:v1:k2:/);
      expect(opened(record, secondRing)).toEqual(secretsOf(key));
      for (const secret of Object.values(secretsOf(key))) expect(text).not.toContain(secret);
    }
    expect(text).not.toContain("pcl-enc:v1:k1:");
    expect(await resealUpstreamTokens(store().upstreamTokens, rotatedRing)).toEqual({ resealed: 0, failures: [] });
  });

  it("re-seals each entry exactly once when several replicas re-seal at the same time", async () => {
    const keys = [1, 2, 3, 4, 5].map(() => ({ principal: principal(), upstreamId: "github" }));
    for (const key of keys) await store().upstreamTokens.put(sealedEntry(key, firstRing));
    const outcomes = await Promise.all([1, 2, 3].map(() => resealUpstreamTokens(store().upstreamTokens, rotatedRing)));
    expect(outcomes.reduce((sum, outcome) => sum + outcome.resealed, 0)).toBe(keys.length);
    expect(outcomes.flatMap((outcome) => outcome.failures)).toEqual([]);
    for (const key of keys) expect(opened((await store().upstreamTokens.get(key))!, secondRing)).toEqual(secretsOf(key));
  });

  it("keeps a refresh written while the entry is re-sealed, refusing the re-seal rather than overwriting it", async () => {
    const key = { principal: principal(), upstreamId: "github" };
    await store().upstreamTokens.put(sealedEntry(key, firstRing));
    const refreshed = { ...sealedEntry(key, secondRing), refreshedAt: 1_500_000 };
    let refresh: Promise<boolean> | undefined;
    const resealing = store().upstreamTokens.reseal(key, (record) => {
      refresh = store().upstreamTokens.put(refreshed);
      return { ...record, accessToken: rotatedRing.seal("a re-sealed access token", upstreamTokenSecretContext(key, "access_token")) };
    });
    const outcome = await resealing.catch((error: unknown) => error);
    expect(await refresh).toBe(true);
    // Redis reads, then compares and sets: the refresh came in between. The embedded store reads and writes in one step, before the refresh.
    if (store().backend === "redis") expect(outcome).toBeInstanceOf(AbortedError);
    else expect(outcome).toBe(true);
    expect(await store().upstreamTokens.get(key)).toEqual(refreshed);
  });

  it("leaves an entry no configured key opens as it is, and names it without its secrets", async () => {
    const key = { principal: principal(), upstreamId: "github" };
    const stored = sealedEntry(key, firstRing);
    await store().upstreamTokens.put(stored);
    const outcome = await resealUpstreamTokens(store().upstreamTokens, secondRing);
    expect(outcome.resealed).toBe(0);
    expect(outcome.failures).toEqual([
      expect.stringMatching(new RegExp(`^the vault entry of principal ${key.principal} for upstream github: secret_key_unknown: .*key id k1`)),
    ]);
    for (const secret of Object.values(secretsOf(key))) expect(outcome.failures.join("\n")).not.toContain(secret);
    expect(await store().upstreamTokens.get(key)).toEqual(stored);
  });
});
