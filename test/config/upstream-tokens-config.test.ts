import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { startInProcess } from "../support/in-process.js";
import { refusal } from "../support/config-files.js";

const MTLS = { PORTCULLIS_TLS_CERT_FILE: "/tls/tls.crt", PORTCULLIS_TLS_KEY_FILE: "/tls/tls.key", PORTCULLIS_TLS_CLIENT_CA_FILE: "/tls/ca.crt" };
const KEY = { PORTCULLIS_DCR_ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64") };
const SECTION = { PORTCULLIS_UPSTREAM_TOKENS: '{"recipients": ["spiffe://example.org/gw", "dns:Envoy.Example"]}' };

describe("the upstream_tokens section", () => {
  it("is off by default, and reads recipients (DNS names lower-cased) and refresh settings", () => {
    expect(loadConfig({}).upstreamTokens).toBeUndefined();
    expect(loadConfig({ ...MTLS, ...KEY, ...SECTION }).upstreamTokens).toEqual({
      recipients: ["spiffe://example.org/gw", "dns:envoy.example"],
      refreshSkewMs: 60_000,
      refreshLeaseMs: 30_000,
      refreshWaitMs: 5000,
      refreshPollMs: 50,
      loginUrls: new Map(),
    });
  });

  it("reads login URLs by upstream id, https, or http to loopback only with oauth.dev_allow_private_upstreams", () => {
    const section = (loginUrls: Record<string, string>) => ({
      PORTCULLIS_UPSTREAM_TOKENS: JSON.stringify({ recipients: ["*"], login_urls: loginUrls }),
    });
    expect(loadConfig({ ...MTLS, ...KEY, ...section({ github: "https://portal.example/login?u=github" }) }).upstreamTokens?.loginUrls).toEqual(
      new Map([["github", "https://portal.example/login?u=github"]]),
    );
    const local = { ...MTLS, ...KEY, ...section({ github: "http://127.0.0.1:8080/login" }) };
    expect(refusal(local).field).toMatch(/upstream_tokens\.login_urls\.github$/);
    expect(loadConfig({ ...local, PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" }).upstreamTokens?.loginUrls.get("github")).toBe(
      "http://127.0.0.1:8080/login",
    );
  });

  it.each([
    ["plain http to another host", { github: "http://portal.example/login" }],
    ["a relative URL", { github: "/login" }],
    ["credentials in the URL", { github: "https://user:pw@portal.example/login" }],
    ["a fragment", { github: "https://portal.example/login#x" }],
    ["a control character", { github: "https://portal.example/log\u0007in" }],
    ["a quote, which could break out of the challenge", { github: 'https://portal.example/"login' }],
    ["another scheme", { github: "javascript:alert(1)" }],
  ])("refuses a login URL with %s", (_what, loginUrls) => {
    const env = { ...MTLS, ...KEY, PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true" };
    const section = JSON.stringify({ recipients: ["*"], login_urls: loginUrls });
    expect(refusal({ ...env, PORTCULLIS_UPSTREAM_TOKENS: section }).field).toMatch(/upstream_tokens\.login_urls\.github$/);
  });

  it("refuses a login URL for an upstream id the vault could not hold", () => {
    const section = JSON.stringify({ recipients: ["*"], login_urls: { "git hub": "https://portal.example/login" } });
    expect(refusal({ ...MTLS, ...KEY, PORTCULLIS_UPSTREAM_TOKENS: section }).field).toMatch(/upstream_tokens\.login_urls$/);
  });

  it("refuses to start without mTLS, which alone tells a recipient's certificate", () => {
    expect(refusal({ PORTCULLIS_TLS_CERT_FILE: "/a.crt", PORTCULLIS_TLS_KEY_FILE: "/a.key", ...KEY, ...SECTION }).message).toMatch(/upstream_tokens: needs mTLS/);
  });

  it("refuses to start without an encryption key, as tokens are kept only sealed", () => {
    expect(refusal({ ...MTLS, ...SECTION }).message).toMatch(/upstream_tokens: needs encryption.keys/);
  });

  it("refuses an empty recipient list and a recipient that is not a certificate name", () => {
    expect(refusal({ ...MTLS, ...KEY, PORTCULLIS_UPSTREAM_TOKENS: '{"recipients": []}' }).field).toMatch(/recipients/);
    expect(refusal({ ...MTLS, ...KEY, PORTCULLIS_UPSTREAM_TOKENS: '{"recipients": ["envoy"]}' }).field).toMatch(/recipients/);
  });

  it("must be present when a policy rule asks for an upstream token", async () => {
    const policy = { PORTCULLIS_POLICY: '{"rules": [{"path_prefix": "/repos", "scope": "repos", "upstream_token": "github"}]}' };
    await expect(startInProcess(policy)).rejects.toThrow(/upstream_token "github", but the upstream_tokens section is missing/);
  });

  it("cannot be asked for by a public rule", async () => {
    const policy = { PORTCULLIS_POLICY: '{"rules": [{"path_prefix": "/repos", "public": true, "upstream_token": "github"}]}' };
    await expect(startInProcess(policy)).rejects.toThrow(/a public rule has no principal/);
  });
});
