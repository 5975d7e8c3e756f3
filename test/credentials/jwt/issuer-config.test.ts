import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../src/config.js";
import { InvalidArgumentError } from "../../../src/errors.js";
import { startInProcess } from "../../support/in-process.js";

const issuers = (list: object[]) => ({ PORTCULLIS_JWT_ISSUERS: JSON.stringify(list) });

describe("JWT issuer configuration", () => {
  it("fills in the documented defaults for an issuer given only its name", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example" }])).jwt.issuers;
    expect(issuer).toEqual({
      issuer: "https://idp.example",
      alias: "idp.example",
      jwksUri: undefined,
      audiences: [],
      algorithms: ["RS256", "PS256", "ES256", "EdDSA"],
      scopeClaims: ["scope", "scp"],
      subjectClaim: "sub",
      librariesClaim: undefined,
      requiredClaims: ["iss", "exp"],
      tokenTypes: ["JWT", "at+jwt", "application/at+jwt"],
      leewayS: 30,
      jwksCacheTtlS: 3600,
      jwksMaxStaleS: 14400,
      jwksMinRefreshIntervalS: 30,
      jwksTimeoutMs: 5000,
      jwksMaxBytes: 262144,
    });
  });

  it("always requires iss and exp of an external issuer's tokens, on top of the configured claims", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example", required_claims: ["jti", "exp"] }])).jwt.issuers;
    expect(issuer?.requiredClaims).toEqual(["iss", "exp", "jti"]);
  });

  it.each(["HS256", "none", "HS512"])("refuses %s for a JWKS issuer", (alg) => {
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", algorithms: ["RS256", alg] }]))).toThrow(InvalidArgumentError);
  });

  it("refuses an issuer configured twice, even across token kinds", () => {
    expect(() => loadConfig(issuers([{ issuer: "https://a.example" }, { issuer: "https://a.example" }]))).toThrow(/configured twice/);
    expect(() => loadConfig({ ...issuers([{ issuer: "https://a.example" }]), PORTCULLIS_TEAM_TOKEN_ISSUER: "https://a.example" })).toThrow(
      /configured twice/,
    );
  });

  it("needs a URL to discover from when no jwks_uri is given", () => {
    expect(() => loadConfig(issuers([{ issuer: "my-idp" }]))).toThrow(/http\(s\) URL/);
    expect(loadConfig(issuers([{ issuer: "my-idp", jwks_uri: "https://idp.example/keys" }])).jwt.issuers[0]?.issuer).toBe("my-idp");
  });

  it("names an issuer by its URL's host unless it is given an alias", () => {
    const loaded = loadConfig({
      ...issuers([{ issuer: "https://Login.Example.com/tenant-1" }, { issuer: "https://login.example.com/tenant-2", alias: "tenant-2" }]),
      PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([{ issuer: "orchestrator", jwk: { kty: "oct", k: "c2VjcmV0" } }]),
    }).jwt;
    expect(loaded.issuers.map((issuer) => issuer.alias)).toEqual(["login.example.com", "tenant-2"]);
    expect(loaded.requestIssuers[0]?.alias).toBe("orchestrator");
  });

  it("asks for an explicit alias when two issuers would share one, or an issuer gives no usable default", () => {
    const twoTenants = [{ issuer: "https://login.example.com/a" }, { issuer: "https://login.example.com/b" }];
    expect(() => loadConfig(issuers(twoTenants))).toThrow(/alias "login.example.com".*explicit alias/);
    expect(() => loadConfig(issuers([{ issuer: "urn:idp", jwks_uri: "https://idp.example/keys" }]))).toThrow(/alias: is required/);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", alias: "Team:X" }]))).toThrow(/alias: must be/);
  });

  it("keeps a key set at most four cache lifetimes by default, and never less than one", () => {
    const [issuer] = loadConfig(issuers([{ issuer: "https://idp.example", jwks_cache_ttl_s: 60 }])).jwt.issuers;
    expect(issuer?.jwksMaxStaleS).toBe(240);
    expect(() => loadConfig(issuers([{ issuer: "https://idp.example", jwks_cache_ttl_s: 60, jwks_max_stale_s: 59 }]))).toThrow(
      /jwks_max_stale_s: must be at least jwks_cache_ttl_s/,
    );
  });

  it("says which variable holds broken JSON", () => {
    expect(() => loadConfig({ PORTCULLIS_JWT_ISSUERS: "[{" })).toThrow(/PORTCULLIS_JWT_ISSUERS/);
  });

  it("stops the start when a per-request issuer's key cannot be used", async () => {
    const broken = [{ issuer: "orchestrator", jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA" } }];
    await expect(startInProcess({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify(broken) })).rejects.toThrow(
      /request_issuers\[0\]\.jwk: cannot be used for ES256/,
    );
  });

  it("refuses a private key where a per-request issuer's public key belongs", () => {
    const leaked = [{ issuer: "orchestrator", jwk: { kty: "EC", crv: "P-256", x: "AAAA", y: "AAAA", d: "AAAA" } }];
    expect(() => loadConfig({ PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify(leaked) })).toThrow(/public key/);
  });
});
