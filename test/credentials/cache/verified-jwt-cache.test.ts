import { describe, expect, it } from "vitest";
import { CacheCoherence } from "../../../src/credentials/cache/cache-coherence.js";
import { VerifiedJwtCache } from "../../../src/credentials/cache/verified-jwt-cache.js";
import type { Identity } from "../../../src/model/identity.js";
import { InvalidationHub } from "../../../src/store/invalidation.js";

const START = 1_800_000_000_000;
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl";

describe("the verified-JWT cache", () => {
  let now = START;
  const hub = new InvalidationHub({ healthy: true, reason: "test" });
  const coherence = new CacheCoherence((listener) => hub.watch(listener), () => undefined);
  const cache = new VerifiedJwtCache(coherence, { maxEntries: 100, ttlMs: 60_000 }, () => now);
  const key = {};

  it("answers a verified token until exp plus leeway and not a millisecond longer", () => {
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, START + 5000);
    now = START + 4999;
    expect(cache.get(TOKEN, "issuer", key)).toEqual({ sub: "x" });
    now = START + 5000;
    expect(cache.get(TOKEN, "issuer", key)).toBeUndefined();
  });

  it("answers only for the issuer and the very key object that verified it", () => {
    now = START;
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, START + 5000);
    expect(cache.get(TOKEN, "other-issuer", key)).toBeUndefined();
    expect(cache.get(TOKEN, "issuer", {})).toBeUndefined();
    expect(cache.get(`${TOKEN}x`, "issuer", key)).toBeUndefined();
  });

  it("keeps a token without exp for the ttl only", () => {
    now = START;
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, undefined);
    now = START + 60_001;
    expect(cache.get(TOKEN, "issuer", key)).toBeUndefined();
  });

  it("recalls a token only once the verifier vouched for what the same key verified, and only until exp plus leeway", () => {
    now = START;
    const vouched = { by: {}, header: { alg: "HS256" }, identity: { subject: "x" } as Identity };
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, START + 5000);
    expect(cache.recall(TOKEN)).toBeUndefined();
    cache.vouch(TOKEN, {}, vouched);
    expect(cache.recall(TOKEN)).toBeUndefined();
    cache.vouch(TOKEN, key, vouched);
    expect(cache.recall(TOKEN)).toMatchObject({ issuer: "issuer", key, vouched });
    expect(cache.recall(`${TOKEN}x`)).toBeUndefined();
    now = START + 5000;
    expect(cache.recall(TOKEN)).toBeUndefined();
  });

  it("keeps nothing for a token vouched for without an entry", () => {
    now = START;
    cache.clear();
    cache.vouch(TOKEN, key, { by: {}, header: { alg: "HS256" }, identity: { subject: "x" } as Identity });
    expect(cache.size).toBe(0);
  });

  it("is emptied by a flush and by any change of the feed's health", () => {
    now = START;
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, START + 5000);
    hub.flush();
    expect(cache.size).toBe(0);
    cache.keep(TOKEN, "issuer", key, { sub: "x" }, START + 5000);
    hub.health(false, "lost");
    expect(cache.size).toBe(0);
  });
});
