import { describe, expect, it } from "vitest";
import { allow, deny } from "../../src/decision/decision.js";
import { checkResponseOf } from "../../src/envoy/check-response.js";
import type { EnvoySettings } from "../../src/envoy/envoy-settings.js";
import type { Identity } from "../../src/model/identity.js";

const SETTINGS: EnvoySettings = {
  identityHeaders: {
    subject: "x-user",
    tokenId: "x-token",
    scopes: "x-scopes",
    libraries: "x-libs",
    credentialType: "x-credential",
    issuer: "x-issuer",
    owner: "x-owner",
  },
  removeAuthorization: false,
  realm: "corp",
  omitForbiddenChallenge: false,
};

const IDENTITY: Identity = {
  subject: "user:zoë\r\nx-admin: 1",
  tokenId: "t1",
  credentialType: "opaque",
  name: "n",
  scopes: ["a", "b"],
  libraries: [],
  allowedTools: [],
};

/** The identity headers an allow for IDENTITY with `changes` sets, by name. */
function identityHeaders(changes: Partial<Identity>): Record<string, string> {
  const response = checkResponseOf(allow("ok", { ...IDENTITY, ...changes }, "a"), SETTINGS);
  const ok = response.httpResponse.value as { headers: { header?: { key: string; value: string } }[] };
  return Object.fromEntries(ok.headers.map((option) => [option.header!.key, option.header!.value]));
}

const challengeOf = (response: ReturnType<typeof checkResponseOf>) =>
  response.httpResponse.case === "deniedResponse"
    ? response.httpResponse.value.headers.find((option) => option.header?.key === "www-authenticate")?.header?.value
    : undefined;

describe("CheckResponse building", () => {
  it("uses the configured header names and keeps the Authorization header unless told to remove it", () => {
    const response = checkResponseOf(allow("ok", IDENTITY, "a"), SETTINGS);
    expect(response.httpResponse.case).toBe("okResponse");
    const ok = response.httpResponse.value as { headers: { header?: { key: string } }[]; headersToRemove: string[] };
    expect(ok.headers.map((option) => option.header?.key)).toEqual(["x-user", "x-token", "x-scopes", "x-credential"]);
    expect(ok.headersToRemove).toEqual(["x-libs", "x-issuer", "x-owner"]);
  });

  it("names the credential type, and the issuer of an external identity, in headers of their own", () => {
    expect(identityHeaders({})).toMatchObject({ "x-credential": "opaque" });
    expect(identityHeaders({})["x-issuer"]).toBeUndefined();
    const external = { subject: "jwt:login.example.com:alice", credentialType: "jwt", issuerAlias: "login.example.com" } as const;
    expect(identityHeaders(external)).toMatchObject({ "x-credential": "jwt", "x-issuer": "login.example.com" });
  });

  it("never passes a control character into an identity header", () => {
    const response = checkResponseOf(allow("ok", IDENTITY, "a"), SETTINGS);
    const ok = response.httpResponse.value as { headers: { header?: { key: string; value: string } }[] };
    expect(ok.headers[0]?.header?.value).toBe("user:zo%C3%AB%0D%0Ax-admin:%201");
  });

  it("encodes a percent sign, so a subject that looks encoded stays apart from the one it looks like", () => {
    expect(identityHeaders({ subject: "café" })["x-user"]).toBe("caf%C3%A9");
    expect(identityHeaders({ subject: "caf%C3%A9" })["x-user"]).toBe("caf%25C3%25A9");
  });

  it("encodes a comma inside one scope or library, so it never reads as two entries", () => {
    expect(identityHeaders({ scopes: ["read,admin"], libraries: ["lib,x"] })).toMatchObject({ "x-scopes": "read%2Cadmin", "x-libs": "lib%2Cx" });
    expect(identityHeaders({ scopes: ["read", "admin"], libraries: ["lib", "x"] })).toMatchObject({ "x-scopes": "read,admin", "x-libs": "lib,x" });
  });

  it("encodes spaces, so whitespace a proxy would trim stays part of the value", () => {
    expect(identityHeaders({ subject: " Jane Doe " })["x-user"]).toBe("%20Jane%20Doe%20");
  });

  it("turns a lone surrogate into U+FFFD instead of failing", () => {
    expect(identityHeaders({ subject: "a\uD800b", scopes: ["\uDC00"] })).toMatchObject({ "x-user": "a%EF%BF%BDb", "x-scopes": "%EF%BF%BD" });
  });

  it("gives back every value exactly when each comma-separated entry is percent-decoded", () => {
    const scopes = ["kafka:read", "100%", "a,b", "größer", " ", "x\r\ny", "tab\there", "emoji 🚪"];
    const headers = identityHeaders({ subject: "caf%C3%A9 & café, 100%", scopes, libraries: ["lib-a"] });
    expect(decodeURIComponent(headers["x-user"]!)).toBe("caf%C3%A9 & café, 100%");
    expect(headers["x-scopes"]!.split(",").map(decodeURIComponent)).toEqual(scopes);
    for (const value of Object.values(headers)) expect(value).toMatch(/^[\x21-\x7e]+$/);
  });

  it("sends no error code when no bearer token was presented, and no metadata URL unless configured", () => {
    expect(challengeOf(checkResponseOf(deny("unauthenticated", "missing_credential"), SETTINGS))).toBe('Bearer realm="corp"');
    expect(challengeOf(checkResponseOf(deny("unauthenticated", "unsupported_scheme"), SETTINGS))).toBe('Bearer realm="corp"');
    expect(challengeOf(checkResponseOf(deny("unauthenticated", "token_expired"), SETTINGS))).toBe(
      'Bearer realm="corp", error="invalid_token"',
    );
  });

  it("quotes a scope that holds quotes or backslashes", () => {
    const response = checkResponseOf(deny("forbidden", "insufficient_scope", IDENTITY, 'odd"scope\\'), SETTINGS);
    expect(challengeOf(response)).toBe('Bearer realm="corp", error="insufficient_scope", scope="odd\\"scope\\\\"');
  });

  it("leaves the challenge off a 403 when configured to, and off 403s a broader scope would not cure", () => {
    const omitted = checkResponseOf(deny("forbidden", "insufficient_scope", IDENTITY, "a"), { ...SETTINGS, omitForbiddenChallenge: true });
    expect(omitted.httpResponse.case).toBe("deniedResponse");
    expect(challengeOf(omitted)).toBeUndefined();
    expect(challengeOf(checkResponseOf(deny("forbidden", "no_policy"), SETTINGS))).toBeUndefined();
    expect(challengeOf(checkResponseOf(deny("forbidden", "tool_not_allowed", IDENTITY, "a"), SETTINGS))).toBeUndefined();
  });
});
