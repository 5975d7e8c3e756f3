import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { Identity } from "../../src/model/identity.js";
import { decisionLogSettings, decisionLogWarnings } from "../../src/observability/log-settings.js";
import { principalView } from "../../src/observability/principal-view.js";
import { configFileWriter } from "../support/config-files.js";

const KEY = Buffer.alloc(32, 9);
const keyFile = configFileWriter();

const identity = (overrides: Partial<Identity>): Identity => ({
  subject: "token:tok_a",
  tokenId: "tok_a",
  credentialType: "opaque",
  name: "a",
  scopes: [],
  libraries: [],
  allowedTools: [],
  ...overrides,
});
const EXTERNAL = identity({ subject: "jwt:idp:alice@example.com", tokenId: "jwt:idp:j-1", credentialType: "jwt", issuerAlias: "idp" });

describe("the principal of a decision line", () => {
  it("shows an external subject plainly, as its HMAC-SHA-256 under the key, or not at all", () => {
    expect(principalView("plain", KEY)(EXTERNAL)).toEqual({ tokenId: "jwt:idp:j-1", issuer: "idp", subject: "jwt:idp:alice@example.com" });
    expect(principalView("hash", KEY)(EXTERNAL)).toEqual({
      tokenId: "jwt:idp:j-1",
      issuer: "idp",
      subjectHash: createHmac("sha256", KEY).update("jwt:idp:alice@example.com").digest("hex"),
    });
    expect(principalView("omit", KEY)(EXTERNAL)).toEqual({ tokenId: "jwt:idp:j-1", issuer: "idp" });
  });

  it("gives different hashes under different keys, so a hash cannot be checked without the key", () => {
    expect(principalView("hash", KEY)(EXTERNAL).subjectHash).not.toBe(principalView("hash", Buffer.alloc(32, 1))(EXTERNAL).subjectHash);
  });

  it("shows Portcullis's own credentials by token id only, and leaves out an empty token id", () => {
    expect(principalView("plain", KEY)(identity({}))).toEqual({ tokenId: "tok_a" });
    expect(principalView("plain", KEY)({ ...EXTERNAL, tokenId: "" })).not.toHaveProperty("tokenId");
  });
});

describe("the log section", () => {
  it("defaults to hashed subjects and no sampled allows", () => {
    expect(decisionLogSettings()).toEqual({ subjects: "hash", allowSampleRate: 0 });
  });

  it("reads the key from its file, and refuses a short key without quoting it", () => {
    const key = "k".repeat(40);
    expect(decisionLogSettings({ subject_hash_key_file: keyFile(`${key}\n`) }).subjectHashKey).toEqual(Buffer.from(key));
    const short = "short-secret-key";
    expect(() => decisionLogSettings({ subject_hash_key_file: keyFile(short) })).toThrow(/log.subject_hash_key_file: must hold at least 32 bytes/);
    try {
      decisionLogSettings({ subject_hash_key_file: keyFile(short) });
    } catch (error) {
      expect(String(error)).not.toContain(short);
    }
  });

  it("warns about a per-process key only where an external issuer's subjects are hashed", () => {
    const hashed = decisionLogSettings();
    expect(decisionLogWarnings(hashed, 1)).toEqual([expect.stringContaining("do not correlate across replicas or restarts")]);
    expect(decisionLogWarnings(hashed, 0)).toEqual([]);
    expect(decisionLogWarnings(decisionLogSettings({ subjects: "omit" }), 1)).toEqual([]);
    expect(decisionLogWarnings({ ...hashed, subjectHashKey: KEY }, 1)).toEqual([]);
  });
});
