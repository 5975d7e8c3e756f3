import { describe, expect, it } from "vitest";
import type { Identity } from "../../src/credentials/identity.js";
import { allow, deny } from "../../src/decision/decision.js";
import { checkResponseOf } from "../../src/envoy/check-response.js";
import type { EnvoySettings } from "../../src/envoy/envoy-settings.js";

const SETTINGS: EnvoySettings = {
  identityHeaders: { subject: "x-user", tokenId: "x-token", scopes: "x-scopes", libraries: "x-libs" },
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

const challengeOf = (response: ReturnType<typeof checkResponseOf>) =>
  response.httpResponse.case === "deniedResponse"
    ? response.httpResponse.value.headers.find((option) => option.header?.key === "www-authenticate")?.header?.value
    : undefined;

describe("CheckResponse building", () => {
  it("uses the configured header names and keeps the Authorization header unless told to remove it", () => {
    const response = checkResponseOf(allow("ok", IDENTITY, "a"), SETTINGS);
    expect(response.httpResponse.case).toBe("okResponse");
    const ok = response.httpResponse.value as { headers: { header?: { key: string } }[]; headersToRemove: string[] };
    expect(ok.headers.map((option) => option.header?.key)).toEqual(["x-user", "x-token", "x-scopes"]);
    expect(ok.headersToRemove).toEqual(["x-libs"]);
  });

  it("never passes a control character into an identity header", () => {
    const response = checkResponseOf(allow("ok", IDENTITY, "a"), SETTINGS);
    const ok = response.httpResponse.value as { headers: { header?: { key: string; value: string } }[] };
    expect(ok.headers[0]?.header?.value).toBe("user%3Azo%C3%AB%0D%0Ax-admin%3A%201");
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
