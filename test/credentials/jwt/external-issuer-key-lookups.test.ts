import { errors, importJWK, SignJWT, type JWSHeaderParameters } from "jose";
import { describe, expect, it } from "vitest";
import { CacheCoherence } from "../../../src/credentials/cache/cache-coherence.js";
import { VerifiedJwtCache } from "../../../src/credentials/cache/verified-jwt-cache.js";
import { externalIssuerVerifier } from "../../../src/credentials/jwt/external-issuer-verifier.js";
import { parseJwtConfig } from "../../../src/credentials/jwt/issuer-config.js";
import { parseJws, type ParsedJws } from "../../../src/credentials/jwt/jws-shape.js";
import { InvalidationHub } from "../../../src/store/invalidation.js";
import { captureLog } from "../../support/captured-log.js";
import { generateTestKey } from "../../support/oidc-provider.js";

const ISSUER = "https://idp.example";
const AUDIENCE = "portcullis-api";

describe("an external issuer's verifier asked about a kid its key set lacks", () => {
  it("looks the key up once per decision, so a decision waits for one JWKS refresh at most", async () => {
    const stranger = await generateTestKey("RS256", "nobody-knows-me");
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "u", scope: "kafka:read", iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: "RS256", kid: stranger.kid })
      .sign(stranger.privateKey);
    const lookups: JWSHeaderParameters[] = [];
    const hub = new InvalidationHub({ healthy: true, reason: "test" });
    const coherence = new CacheCoherence((listener) => hub.watch(listener), () => undefined);
    const verifier = externalIssuerVerifier({
      config: parseJwtConfig({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE] }] }).issuers[0]!,
      // Each lookup of a missing kid is what waits for a refresh in the real key source.
      keys: {
        getKey: async (header) => {
          lookups.push(header);
          throw new errors.JWKSNoMatchingKey();
        },
        knownKey: () => undefined,
        start: async () => undefined,
      },
      verified: new VerifiedJwtCache(coherence, { maxEntries: 10, ttlMs: 60_000 }, Date.now),
      clock: Date.now,
      log: captureLog().log,
    });

    const verification = await verifier.verify(token, parseJws(token) as ParsedJws);

    expect(verification).toEqual({ rejection: { reason: "unknown_key" } });
    expect(lookups).toHaveLength(1);
  });
});

describe("an external issuer's verifier, for rule conditions", () => {
  it("hands on the verified claims, from a full verification and from the verified-JWT cache alike", async () => {
    const key = await generateTestKey("ES256", "known-1");
    const publicKey = await importJWK(key.publicJwk, "ES256");
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: "u", scope: "kafka:read", groups: ["admins"], iat: now, exp: now + 300 })
      .setProtectedHeader({ alg: "ES256", kid: key.kid })
      .sign(key.privateKey);
    const hub = new InvalidationHub({ healthy: true, reason: "test" });
    const coherence = new CacheCoherence((listener) => hub.watch(listener), () => undefined);
    const verified = new VerifiedJwtCache(coherence, { maxEntries: 10, ttlMs: 60_000 }, Date.now);
    const verifier = externalIssuerVerifier({
      config: parseJwtConfig({ issuers: [{ issuer: ISSUER, audiences: [AUDIENCE] }] }).issuers[0]!,
      keys: { getKey: async () => publicKey as CryptoKey, knownKey: () => publicKey as CryptoKey, start: async () => undefined },
      verified,
      clock: Date.now,
      log: captureLog().log,
    });

    const first = await verifier.verify(token, parseJws(token) as ParsedJws);
    expect(verified.size).toBe(1);
    const second = await verifier.verify(token, parseJws(token) as ParsedJws);

    for (const verification of [first, second]) {
      expect(verification).toMatchObject({ identity: { claims: { sub: "u", groups: ["admins"], iss: ISSUER } } });
    }
  });
});
