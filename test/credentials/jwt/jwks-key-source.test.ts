import http from "node:http";
import type { AddressInfo } from "node:net";
import { errors } from "jose";
import { afterEach, describe, expect, it } from "vitest";
import { createJwksKeySource } from "../../../src/credentials/jwt/jwks-key-source.js";
import { UnavailableError } from "../../../src/errors.js";
import { eventually } from "../../support/eventually.js";
import { generateTestKey, OidcProvider } from "../../support/oidc-provider.js";

describe("the JWKS key source", () => {
  const providers: OidcProvider[] = [];
  const servers: http.Server[] = [];
  afterEach(async () => {
    for (const provider of providers.splice(0)) await provider.stop();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  async function provider(): Promise<OidcProvider> {
    const started = new OidcProvider("oidc");
    await started.start();
    providers.push(started);
    return started;
  }

  async function rawServer(handler: http.RequestListener): Promise<string> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    servers.push(server);
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/keys`;
  }

  it("lets a flood of made-up kids cost the IdP one fetch per refresh interval", async () => {
    const idp = await provider();
    const key = await generateTestKey("ES256", "real");
    idp.publish(key);
    let now = 1_000_000;
    const source = createJwksKeySource({ issuer: idp.issuer, minRefreshIntervalMs: 30_000, clock: () => now });
    await source.start();
    await source.getKey({ alg: "ES256", kid: "real" });
    const fetchesAfterStart = idp.jwksFetches;
    for (let i = 0; i < 50; i++) {
      await expect(source.getKey({ alg: "ES256", kid: `random-${i}` })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      now += 100;
    }
    expect(idp.jwksFetches - fetchesAfterStart).toBe(1);
    now += 30_000;
    await expect(source.getKey({ alg: "ES256", kid: "random-late" })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(idp.jwksFetches - fetchesAfterStart).toBe(2);
  });

  it("coalesces 100 concurrent lookups of a new kid into one fetch", async () => {
    const idp = await provider();
    const old = await generateTestKey("ES256", "old");
    idp.publish(old);
    const source = createJwksKeySource({ issuer: idp.issuer });
    await source.start();
    const fetchesAfterStart = idp.jwksFetches;
    idp.publish(old, await generateTestKey("ES256", "new"));
    idp.jwksDelayMs = 100;
    const keys = await Promise.all(Array.from({ length: 100 }, () => source.getKey({ alg: "ES256", kid: "new" })));
    expect(new Set(keys).size).toBe(1);
    expect(idp.jwksFetches - fetchesAfterStart).toBe(1);
  });

  it("fetches again once the cache TTL has passed, serving the cached keys meanwhile", async () => {
    const idp = await provider();
    const first = await generateTestKey("ES256", "first");
    idp.publish(first);
    let now = 0;
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, ttlMs: 60_000, clock: () => now });
    await source.getKey({ alg: "ES256", kid: "first" });
    expect(idp.jwksFetches).toBe(1);
    now += 59_999;
    await source.getKey({ alg: "ES256", kid: "first" });
    expect(idp.jwksFetches).toBe(1);
    now += 1;
    await source.getKey({ alg: "ES256", kid: "first" });
    // The refresh runs in the background; the lookup did not wait for it.
    await eventually(async () => idp.jwksFetches === 2, 5000);
  });

  it("refuses a key set past its maximum staleness with one fetch attempt per refresh interval, until a fetch succeeds", async () => {
    const key = await generateTestKey("ES256", "withdrawn-later");
    let up = true;
    let attempts = 0;
    const uri = await rawServer((_request, response) => {
      attempts++;
      if (!up) return response.writeHead(503).end();
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    let now = 0;
    const source = createJwksKeySource({ jwksUri: uri, ttlMs: 60_000, maxStaleMs: 240_000, minRefreshIntervalMs: 30_000, clock: () => now });
    await source.getKey({ alg: "ES256", kid: key.kid });
    up = false;
    now = 239_999;
    // Past the TTL, short of the maximum staleness: served while a background refresh fails.
    await expect(source.getKey({ alg: "ES256", kid: key.kid })).resolves.toBeDefined();
    await eventually(async () => attempts === 2, 5000);

    now = 270_000;
    const lookups = Array.from({ length: 50 }, () => source.getKey({ alg: "ES256", kid: key.kid }));
    for (const lookup of lookups) await expect(lookup).rejects.toBeInstanceOf(UnavailableError);
    expect(attempts).toBe(3);
    up = true;
    now = 299_999;
    await expect(source.getKey({ alg: "ES256", kid: key.kid })).rejects.toBeInstanceOf(UnavailableError);
    expect(attempts).toBe(3);

    now = 300_000;
    await expect(source.getKey({ alg: "ES256", kid: key.kid })).resolves.toBeDefined();
    expect(attempts).toBe(4);
  });

  it("defaults the maximum staleness to four cache lifetimes", async () => {
    const idp = await provider();
    const key = await generateTestKey("ES256", "k");
    idp.publish(key);
    let now = 0;
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, ttlMs: 1000, minRefreshIntervalMs: 0, clock: () => now });
    await source.getKey({ alg: "ES256", kid: "k" });
    await idp.stop();
    now = 3999;
    await expect(source.getKey({ alg: "ES256", kid: "k" })).resolves.toBeDefined();
    now = 4000;
    await expect(source.getKey({ alg: "ES256", kid: "k" })).rejects.toBeInstanceOf(UnavailableError);
  });

  it("survives a failed fetch at start and fetches again on first use", async () => {
    const idp = await provider();
    const key = await generateTestKey("EdDSA", "ed");
    idp.publish(key);
    const port = new URL(idp.issuer).port;
    await idp.stop();
    const source = createJwksKeySource({ jwksUri: `http://127.0.0.1:${port}/keys` });
    await expect(source.start()).resolves.toBeUndefined();
    await expect(source.getKey({ alg: "EdDSA", kid: "ed" })).rejects.toBeInstanceOf(UnavailableError);
    await idp.start();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(source.getKey({ alg: "EdDSA", kid: "ed" })).resolves.toBeDefined();
  });

  it("gives up on a key set larger than the size cap", async () => {
    const key = await generateTestKey("ES256", "big");
    const uri = await rawServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify({ keys: [key.publicJwk], padding: "x".repeat(20_000) }));
    });
    const source = createJwksKeySource({ jwksUri: uri, fetchLimits: { timeoutMs: 2000, maxBytes: 10_000 } });
    await expect(source.getKey({ alg: "ES256", kid: "big" })).rejects.toBeInstanceOf(UnavailableError);
  });

  it("does not follow a redirect away from the configured key set", async () => {
    const key = await generateTestKey("ES256", "moved");
    const uri = await rawServer((request, response) => {
      if (request.url === "/keys") return response.writeHead(302, { location: "/moved" }).end();
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ keys: [key.publicJwk] }));
    });
    const source = createJwksKeySource({ jwksUri: uri });
    await expect(source.getKey({ alg: "ES256", kid: "moved" })).rejects.toBeInstanceOf(UnavailableError);
  });

  it("gives up on an IdP that does not answer within the timeout", async () => {
    const uri = await rawServer(() => undefined);
    const source = createJwksKeySource({ jwksUri: uri, fetchLimits: { timeoutMs: 200, maxBytes: 10_000 } });
    const started = Date.now();
    await expect(source.getKey({ alg: "ES256", kid: "slow" })).rejects.toBeInstanceOf(UnavailableError);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("never uses a key for an algorithm of another key type", async () => {
    const idp = await provider();
    const rsa = await generateTestKey("RS256", "shared-kid");
    idp.publish(rsa);
    const source = createJwksKeySource({ jwksUri: idp.jwksUri });
    await expect(source.getKey({ alg: "RS256", kid: "shared-kid" })).resolves.toBeDefined();
    await expect(source.getKey({ alg: "ES256", kid: "shared-kid" })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    await expect(source.getKey({ alg: "HS256", kid: "shared-kid" })).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it("knows a key without a wait only once a lookup imported it from the current key set, and never past the maximum staleness", async () => {
    const idp = await provider();
    const rsa = await generateTestKey("RS256", "known");
    idp.publish(rsa);
    let now = 0;
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, ttlMs: 1000, maxStaleMs: 4000, minRefreshIntervalMs: 0, clock: () => now });
    await source.start();
    expect(source.knownKey({ alg: "RS256", kid: "known" })).toBeUndefined();
    const key = await source.getKey({ alg: "RS256", kid: "known" });
    expect(source.knownKey({ alg: "RS256", kid: "known" })).toBe(key);
    expect(source.knownKey({ alg: "PS256", kid: "known" })).toBeUndefined();
    expect(source.knownKey({ alg: "RS256", kid: "other" })).toBeUndefined();
    expect(source.knownKey({ alg: "RS256" })).toBeUndefined();
    await idp.stop();
    now = 3999;
    expect(source.knownKey({ alg: "RS256", kid: "known" })).toBe(key);
    now = 4000;
    expect(source.knownKey({ alg: "RS256", kid: "known" })).toBeUndefined();
  });

  it("forgets the keys it knew when a fetch brings a new key set, even one with the same keys", async () => {
    const idp = await provider();
    const rsa = await generateTestKey("RS256", "kept");
    idp.publish(rsa);
    let now = 0;
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, ttlMs: 1000, minRefreshIntervalMs: 0, clock: () => now });
    const key = await source.getKey({ alg: "RS256", kid: "kept" });
    now = 1000;
    // Past the TTL: still known, and the question starts a fetch in the background.
    expect(source.knownKey({ alg: "RS256", kid: "kept" })).toBe(key);
    await eventually(async () => idp.jwksFetches === 2, 5000);
    await eventually(async () => source.knownKey({ alg: "RS256", kid: "kept" }) === undefined, 5000);
    const again = await source.getKey({ alg: "RS256", kid: "kept" });
    expect(source.knownKey({ alg: "RS256", kid: "kept" })).toBe(again);
  });
});
