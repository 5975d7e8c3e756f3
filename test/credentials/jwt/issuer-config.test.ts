import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { InvalidArgumentError } from "../../../src/errors.js";
import { startInProcess } from "../../support/in-process.js";

const issuers = (list: object[]) => ({ PORTCULLIS_JWT_ISSUERS: JSON.stringify(list) });
const AUD = { audiences: ["api"] };

describe("JWT issuer configuration", () => {
  it("fills in the documented defaults for an issuer given only its name and audiences", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://IdP.example/tenant", ...AUD }])).jwt.issuers;
    expect(issuer).toEqual({
      issuer: "https://IdP.example/tenant",
      alias: "idp.example",
      jwksUri: undefined,
      audiences: ["api"],
      tokenTypes: ["JWT", "at+jwt", "application/at+jwt"],
      algorithms: ["RS256", "PS256", "ES256", "EdDSA"],
      scopeClaims: ["scope", "scp"],
      subjectClaim: "sub",
      librariesClaim: undefined,
      requiredClaims: ["iss", "exp"],
      leewayS: 30,
      jwksCacheTtlS: 3600,
      jwksMinRefreshIntervalS: 30,
      jwksTimeoutMs: 5000,
      jwksMaxBytes: 262144,
      jwksMaxStaleS: 4 * 3600,
    });
  });

  it("refuses an issuer without audiences, and takes the explicit any as no aud check, warned at start", () => {
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example" }]))).toThrow(/jwt\.issuers\[0\]\.audiences: is required/);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", audiences: [] }]))).toThrow(/audiences: is required: a non-empty list/);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", audiences: "all" }]))).toThrow(/jwt\.issuers\[0\]\.audiences/);
    const config = loadConfig(issuers([{ issuer: "https://idp.example", audiences: "any" }]));
    expect(config.jwt.issuers[0]?.audiences).toEqual([]);
    expect(config.warnings).toEqual([expect.stringMatching(/"https:\/\/idp\.example" has audiences: any/)]);
  });

  it("requires audiences of per-request issuers too", () => {
    const issuer = { issuer: "orchestrator", jwk: { kty: "oct", k: "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3I" } };
    expect(() => loadConfig({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([issuer]) })).toThrow(/request_issuers\[0\]\.audiences: is required/);
    const [resolved] = loadConfig({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([{ ...issuer, ...AUD }]) }).jwt.requestIssuers;
    expect(resolved).toMatchObject({ alias: "orchestrator", audiences: ["api"], tokenTypes: ["JWT", "at+jwt", "application/at+jwt"] });
  });

  it("asks for explicit aliases when two issuers would share one", () => {
    const sameHost = [
      { issuer: "https://idp.example/a", ...AUD },
      { issuer: "https://idp.example/b", ...AUD },
    ];
    expect(() => loadConfig(issuers(sameHost))).toThrow(/two issuers have the alias "idp\.example": give each an explicit, distinct alias/);
    const named = loadConfig(issuers([{ ...sameHost[0], alias: "idp-a" }, { ...sameHost[1], alias: "idp-b" }])).jwt.issuers;
    expect(named.map((issuer) => issuer.alias)).toEqual(["idp-a", "idp-b"]);
    expect(() => loadConfig(issuers([{ ...sameHost[0], alias: "IdP A" }]))).toThrow(/jwt\.issuers\[0\]\.alias: must be 1-63 lowercase/);
    expect(() => loadConfig(issuers([{ issuer: "My IdP", jwks_uri: "https://idp.example/keys", ...AUD }]))).toThrow(/alias: is required/);
  });

  it("keeps a JWKS at most jwks_max_stale_s, by default four cache lifetimes, never less than one", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, jwks_cache_ttl_s: 60 }])).jwt.issuers;
    expect(issuer?.jwksMaxStaleS).toBe(240);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, jwks_cache_ttl_s: 60, jwks_max_stale_s: 59 }]))).toThrow(
      /jwks_max_stale_s: must be at least jwks_cache_ttl_s/,
    );
  });

  it("takes the accepted token types as configured, refusing an empty list", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, token_types: ["at+jwt"] }])).jwt.issuers;
    expect(issuer?.tokenTypes).toEqual(["at+jwt"]);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, token_types: [] }]))).toThrow(/token_types/);
  });

  it("always requires iss and exp of an external issuer's tokens, on top of the configured claims", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, required_claims: ["jti", "exp"] }])).jwt.issuers;
    expect(issuer?.requiredClaims).toEqual(["iss", "exp", "jti"]);
  });

  it.each(["HS256", "none", "HS512"])("refuses %s for a JWKS issuer", (alg) => {
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", ...AUD, algorithms: ["RS256", alg] }]))).toThrow(InvalidArgumentError);
  });

  it("refuses an issuer configured twice, even across token kinds", () => {
    const a = { issuer: "https://a.example", ...AUD };
    expect(() => loadConfig(issuers([a, { ...a, alias: "other" }]))).toThrow(/configured twice/);
    expect(() => loadConfig({ ...issuers([a]), PORTCULLIS_TEAM_TOKEN_ISSUER: "https://a.example" })).toThrow(
      /configured twice/,
    );
  });

  it("needs a URL to discover from when no jwks_uri is given", () => {
    expect(() => loadConfig(issuers([{ issuer: "my-idp", ...AUD }]))).toThrow(/http\(s\) URL/);
    expect(loadConfig(issuers([{ issuer: "my-idp", jwks_uri: "https://idp.example/keys", ...AUD }])).jwt.issuers[0]).toMatchObject({
      issuer: "my-idp",
      alias: "my-idp",
    });
  });

  it("says which variable holds broken JSON", () => {
    expect(() => loadConfig({ PORTCULLIS_JWT_ISSUERS: "[{" })).toThrow(/PORTCULLIS_JWT_ISSUERS/);
  });

  it("stops the start when a per-request issuer's key cannot be used", async () => {
    const broken = [{ issuer: "orchestrator", jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" }, ...AUD }];
    await expect(startInProcess({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify(broken) })).rejects.toThrow(
      /request_issuers\[0\]\.jwk: cannot be used for ES256/,
    );
  });

  it("refuses a private key where a per-request issuer's public key belongs", () => {
    const leaked = [{ issuer: "orchestrator", jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", d: "AAAA" }, ...AUD }];
    expect(() => loadConfig({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify(leaked) })).toThrow(/public key/);
  });
});
