import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Authenticator } from "../../../src/credentials/authenticator.js";
import { CacheCoherence } from "../../../src/credentials/cache/cache-coherence.js";
import { VerifiedJwtCache } from "../../../src/credentials/cache/verified-jwt-cache.js";
import { externalIssuerVerifier } from "../../../src/credentials/jwt/external-issuer-verifier.js";
import { parseJwtConfig } from "../../../src/credentials/jwt/issuer-config.js";
import { createJwksKeySource, type JwksKeySource } from "../../../src/credentials/jwt/jwks-key-source.js";
import { jwtVerifier } from "../../../src/credentials/jwt/jwt-verifier.js";
import { InvalidationHub } from "../../../src/store/invalidation.js";
import { captureLog } from "../../support/captured-log.js";
import { eventually } from "../../support/eventually.js";
import { generateTestKey, OidcProvider, type TestKey } from "../../support/oidc-provider.js";

const AUDIENCE = "portcullis-api";
const TTL_MS = 60_000;

/**
 * Warm decisions answer an external JWT from the verified-JWT cache without
 * taking it apart; these are the ends of that answer.
 */
describe("an external JWT verified before", () => {
  const idp = new OidcProvider("oidc");
  let first: TestKey;
  let second: TestKey;

  beforeAll(async () => {
    first = await generateTestKey("RS256", "first");
    second = await generateTestKey("ES256", "second");
    await idp.start();
  });

  afterAll(async () => {
    await idp.stop();
  });

  /** An issuer's verifier as the wiring builds it, around a key source that counts full lookups. */
  function setUp(alias = "idp") {
    let now = Date.now();
    const clock = () => now;
    idp.publish(first);
    const source = createJwksKeySource({ jwksUri: idp.jwksUri, ttlMs: TTL_MS, minRefreshIntervalMs: 0, clock });
    let lookups = 0;
    const keys: JwksKeySource = {
      ...source,
      getKey: (header, signal) => {
        lookups++;
        return source.getKey(header, signal);
      },
    };
    const hub = new InvalidationHub({ healthy: true, reason: "test" });
    const verified = new VerifiedJwtCache(new CacheCoherence((listener) => hub.watch(listener), () => undefined), { maxEntries: 10, ttlMs: 600_000 }, clock);
    const verifierOf = (issuerAlias: string) => {
      const config = parseJwtConfig({ issuers: [{ issuer: idp.issuer, alias: issuerAlias, audiences: [AUDIENCE], leeway_s: 30 }] }).issuers[0]!;
      const external = externalIssuerVerifier({ config, keys, verified, clock, log: captureLog().log });
      return new Authenticator([jwtVerifier(new Map([[idp.issuer, external]]), verified)]);
    };
    return {
      authenticator: verifierOf(alias),
      verifierOf,
      lookups: () => lookups,
      advance: (ms: number) => (now += ms),
      at: (ms: number) => (now = ms),
    };
  }

  it("is answered again without a second key lookup, with the same identity", async () => {
    const { authenticator, lookups } = setUp();
    const token = await idp.sign(first, { aud: AUDIENCE, scope: "kafka:read" });
    const verified = await authenticator.authenticate(`Bearer ${token}`);
    const recalled = await authenticator.authenticate(`Bearer ${token}`);
    expect(verified).toMatchObject({ identity: { subject: "jwt:idp:user-1", scopes: ["kafka:read"] } });
    expect(recalled).toEqual(verified);
    expect(lookups()).toBe(1);
  });

  it("is refused from the millisecond its exp plus leeway passes", async () => {
    const { authenticator, at } = setUp();
    const exp = Math.floor(Date.now() / 1000) + 120;
    const leewayS = 30;
    const token = await idp.sign(first, { aud: AUDIENCE, scope: "kafka:read", exp });
    expect(await authenticator.authenticate(`Bearer ${token}`)).toHaveProperty("identity");
    at((exp + leewayS) * 1000 - 1);
    expect(await authenticator.authenticate(`Bearer ${token}`)).toHaveProperty("identity");
    at((exp + leewayS) * 1000);
    expect(await authenticator.authenticate(`Bearer ${token}`)).toEqual({ rejection: { reason: "token_expired" } });
  });

  it("is refused once its IdP's key set no longer offers the key that verified it", async () => {
    const { authenticator, advance } = setUp();
    const token = await idp.sign(first, { aud: AUDIENCE, scope: "kafka:read" });
    expect(await authenticator.authenticate(`Bearer ${token}`)).toHaveProperty("identity");
    idp.publish(second);
    const fetches = idp.jwksFetches;
    advance(TTL_MS);
    // Past the TTL the cached key set serves while a fresh one is fetched in the background.
    expect(await authenticator.authenticate(`Bearer ${token}`)).toHaveProperty("identity");
    await eventually(async () => idp.jwksFetches > fetches, 5000);
    await eventually(async () => "rejection" in (await authenticator.authenticate(`Bearer ${token}`)), 5000);
    expect(await authenticator.authenticate(`Bearer ${token}`)).toEqual({ rejection: { reason: "unknown_key" } });
  });

  it("is answered by a verifier of new settings as those settings read it, not as the replaced ones did", async () => {
    const { authenticator, verifierOf } = setUp("before");
    const token = await idp.sign(first, { aud: AUDIENCE, scope: "kafka:read" });
    expect(await authenticator.authenticate(`Bearer ${token}`)).toMatchObject({ identity: { subject: "jwt:before:user-1" } });
    const reloaded = verifierOf("after");
    expect(await reloaded.authenticate(`Bearer ${token}`)).toMatchObject({ identity: { subject: "jwt:after:user-1", issuerAlias: "after" } });
    expect(await reloaded.authenticate(`Bearer ${token}`)).toMatchObject({ identity: { subject: "jwt:after:user-1", issuerAlias: "after" } });
  });

  it("is refused with a character outside the bearer alphabet appended, as any such bearer is", async () => {
    const { authenticator } = setUp();
    const token = await idp.sign(first, { aud: AUDIENCE, scope: "kafka:read" });
    expect(await authenticator.authenticate(`Bearer ${token}`)).toHaveProperty("identity");
    expect(await authenticator.authenticate(`Bearer ${token}"`)).toEqual({ rejection: { reason: "malformed_credential" } });
    expect(await authenticator.authenticate(`Bearer\t${token}`)).toEqual({ rejection: { reason: "malformed_credential" } });
  });
});
