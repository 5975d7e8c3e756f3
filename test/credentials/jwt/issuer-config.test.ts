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
      jwksUri: undefined,
      audiences: [],
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
