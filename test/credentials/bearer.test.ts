import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { extractBearer, MAX_AUTHORIZATION_LENGTH } from "../../src/credentials/bearer.js";

const TOKEN = "pcl_abcDEF012-_.~+/xyz==";

describe("extractBearer", () => {
  it.each([
    [`Bearer ${TOKEN}`, TOKEN],
    [`bearer ${TOKEN}`, TOKEN],
    [`BEARER ${TOKEN}`, TOKEN],
    [`Bearer    ${TOKEN}   `, TOKEN],
    [`  Bearer ${TOKEN}`, TOKEN],
    [TOKEN, TOKEN],
    [` ${TOKEN} `, TOKEN],
    ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"],
  ])("takes the token out of %j", (authorization, bearer) => {
    expect(extractBearer(authorization)).toEqual({ bearer });
  });

  it.each([
    ["", "missing_credential"],
    ["   ", "missing_credential"],
    ["Bearer", "missing_credential"],
    ["bearer  ", "missing_credential"],
    ["Bearer    ", "missing_credential"],
    [`Basic ${TOKEN}`, "unsupported_scheme"],
    [`Token ${TOKEN}`, "unsupported_scheme"],
    [`Bearer ${TOKEN} extra`, "malformed_credential"],
    [`Bearer\t${TOKEN}`, "malformed_credential"],
    ["Bearer pcl_a=b", "malformed_credential"],
    ["Bearer pcl_\"quoted\"", "malformed_credential"],
    ["Bearer pcl_é", "malformed_credential"],
    ["Bearer pcl_a\u0000", "malformed_credential"],
    ["Bearer pcl_a\r\nX-Injected: 1", "malformed_credential"],
    [`Bearer ${"a".repeat(MAX_AUTHORIZATION_LENGTH)}`, "credential_too_long"],
    [" ".repeat(MAX_AUTHORIZATION_LENGTH + 1), "credential_too_long"],
  ])("refuses %j with %s", (authorization, reason) => {
    expect(extractBearer(authorization)).toEqual({ reason });
  });

  it("accepts a value of exactly the maximum length", () => {
    const authorization = `Bearer ${"a".repeat(MAX_AUTHORIZATION_LENGTH - "Bearer ".length)}`;
    expect(extractBearer(authorization)).toHaveProperty("bearer");
  });

  it("answers any string with a bearer from the token alphabet or a reason, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), (authorization) => {
        const extraction = extractBearer(authorization);
        if ("bearer" in extraction) expect(extraction.bearer).toMatch(/^[A-Za-z0-9\-._~+/]+=*$/);
        else expect(extraction.reason).toMatch(/^[a-z_]+$/);
      }),
    );
  });
});
