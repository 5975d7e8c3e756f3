import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { configFileWriter, refusal } from "../support/config-files.js";

describe("DCR and OAuth settings", () => {
  const configFile = configFileWriter();
  it("default to 90-day staleness, 10-minute flows, a 30 s ID token leeway, plain secrets, no allowed issuers and the main Redis prefix", () => {
    const config = loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", PORTCULLIS_REDIS_PREFIX: "{p}:" });
    expect(config.redis?.dcrPrefix).toBe("{p}:");
    expect(config.encryption).toBeUndefined();
    expect(config.dcr).toEqual({ staleAfterMs: 90 * 24 * 3600 * 1000, leaseTtlMs: 30_000, awaitMaxMs: 60_000, awaitPollMs: 100 });
    expect(config.oauth).toEqual({
      stateTtlMs: 600_000,
      httpTimeoutMs: 5000,
      httpMaxBytes: 1024 * 1024,
      discoveryCacheMs: 600_000,
      idTokenLeewayS: 30,
      allowedIssuers: [],
      devAllowPrivateUpstreams: false,
    });
  });

  it("take the allowed upstream issuers from the file or, comma-separated, the environment, less one trailing slash", () => {
    const file = configFile("oauth:\n  allowed_issuers: [https://idp.example.com/, https://login.example.org/tenant]\n  dev_allow_private_upstreams: true\n");
    expect(loadConfig({ PORTCULLIS_CONFIG: file }).oauth).toMatchObject({
      allowedIssuers: ["https://idp.example.com", "https://login.example.org/tenant"],
      devAllowPrivateUpstreams: true,
    });
    expect(
      loadConfig({ PORTCULLIS_CONFIG: file, PORTCULLIS_OAUTH_ALLOWED_ISSUERS: "https://a.example.com, https://b.example.com/" }).oauth.allowedIssuers,
    ).toEqual(["https://a.example.com", "https://b.example.com"]);
  });

  it("refuse an allowed issuer that is not an https URL, naming its place in the list", () => {
    for (const value of ["https://idp.example.com,http://idp.example.com", "https://idp.example.com,https://idp.example.com/?tenant=1"]) {
      expect(() => loadConfig({ PORTCULLIS_OAUTH_ALLOWED_ISSUERS: value })).toThrow(/^PORTCULLIS_OAUTH_ALLOWED_ISSUERS\[1\]: must be an https issuer URL/);
    }
    expect(() => loadConfig({ PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "yes" })).toThrow(/PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS/);
  });

  it("take ToolHive's DCR prefix and the other values from the environment", () => {
    const key = Buffer.alloc(32, 1).toString("base64");
    const config = loadConfig({
      REDIS_URL: "redis://127.0.0.1:6379",
      PORTCULLIS_DCR_REDIS_PREFIX: "thv:auth:{default:my-server}:",
      PORTCULLIS_DCR_STALE_AFTER_S: "60",
      PORTCULLIS_DCR_ENCRYPTION_KEY: key,
      PORTCULLIS_OAUTH_STATE_TTL_MS: "1000",
      PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS: "250",
    });
    expect(config.redis?.dcrPrefix).toBe("thv:auth:{default:my-server}:");
    expect(config.dcr.staleAfterMs).toBe(60_000);
    expect(config.encryption?.keys.map(({ key }) => key)).toEqual([Buffer.alloc(32, 1)]);
    expect([config.oauth.stateTtlMs, config.oauth.httpTimeoutMs]).toEqual([1000, 250]);
  });

  it("take the ID token leeway from the file, the environment winning, and allow 0", () => {
    const file = configFile("oauth:\n  id_token_leeway_s: 5\n");
    expect(loadConfig({ PORTCULLIS_CONFIG: file }).oauth.idTokenLeewayS).toBe(5);
    expect(loadConfig({ PORTCULLIS_CONFIG: file, PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S: "0" }).oauth.idTokenLeewayS).toBe(0);
  });

  it("refuse a negative or fractional ID token leeway", () => {
    for (const value of ["-1", "2.5", "soon"]) {
      expect(() => loadConfig({ PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S: value })).toThrow(/PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S/);
    }
  });

  it("refuse an encryption key that is not 32 bytes, without echoing it", () => {
    const short = Buffer.alloc(16, 2).toString("base64");
    expect(refusal({ PORTCULLIS_DCR_ENCRYPTION_KEY: short }).message).not.toContain(short);
  });

  it("refuse a zero timeout, from the environment as from the file", () => {
    expect(() => loadConfig({ PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS: "0" })).toThrow(InvalidArgumentError);
    const file = configFile("oauth:\n  http_timeout_ms: 0\n");
    expect(() => loadConfig({ PORTCULLIS_CONFIG: file })).toThrow(InvalidArgumentError);
  });
});
