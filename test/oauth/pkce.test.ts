import { describe, expect, it } from "vitest";
import { codeChallengeS256, createCodeVerifier, randomToken } from "../../src/oauth/pkce.js";

describe("PKCE (RFC 7636)", () => {
  it("derives the Appendix B challenge from the Appendix B verifier", () => {
    expect(codeChallengeS256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("creates verifiers of 43 unreserved characters, never the same twice", () => {
    const verifiers = Array.from({ length: 50 }, createCodeVerifier);
    for (const verifier of verifiers) expect(verifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    expect(new Set(verifiers).size).toBe(verifiers.length);
  });

  it("creates state values with at least 128 random bits", () => {
    // 32 random bytes in base64url: 43 characters of 6 bits each.
    expect(randomToken()).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});
