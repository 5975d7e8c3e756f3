import { describe, expect, it } from "vitest";
import { isIssuedKeyId } from "../../../src/credentials/jwt/key-id.js";
import { generateSigningKey } from "../../../src/credentials/jwt/signing-key-material.js";

describe("a generated signing key's kid", () => {
  it("never starts with a dash, so the admin CLI never reads it as an option", async () => {
    // Without the prefix, one kid in 64 started with "-": 2,000 draws miss it with odds of about 1 in 10^14.
    const kids = await Promise.all(Array.from({ length: 2000 }, async () => (await generateSigningKey("HS256", 1)).kid));
    expect(kids.filter((kid) => !/^[A-Za-z]/.test(kid))).toEqual([]);
    expect(kids.every(isIssuedKeyId)).toBe(true);
    expect(new Set(kids).size).toBe(kids.length);
  });

  it("is the same kid in an ES256 key's public JWK", async () => {
    const key = await generateSigningKey("ES256", 1);
    expect(key.kid).toMatch(/^[A-Za-z]/);
    expect(key.publicJwk?.kid).toBe(key.kid);
  });
});
