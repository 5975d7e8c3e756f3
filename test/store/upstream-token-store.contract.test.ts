import { randomBytes } from "node:crypto";
import { expect, it } from "vitest";
import type { UpstreamTokenRecord } from "../../src/model/upstream-token.js";
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

describeStoreContract("upstream token", ({ store, reopen }) => {
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
});
