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
    });
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
