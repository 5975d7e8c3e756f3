import { equals, fromBinary, toBinary } from "@bufbuild/protobuf";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { allow, deny, type Decision } from "../../src/decision/decision.js";
import { checkResponseEncoder } from "../../src/envoy/check-response-encoder.js";
import { checkResponseOf } from "../../src/envoy/check-response.js";
import type { EnvoySettings } from "../../src/envoy/envoy-settings.js";
import type { Identity } from "../../src/model/identity.js";
import { CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { anyDecision } from "../support/decision-arbitrary.js";
import { DEFAULT_ENVOY_SETTINGS } from "../support/envoy-settings.js";

const SETTINGS = DEFAULT_ENVOY_SETTINGS;

const IDENTITY: Identity = {
  subject: "token:tok_1",
  tokenId: "tok_1",
  credentialType: "opaque",
  name: "reader",
  scopes: ["kafka:read", "reports:read"],
  libraries: ["lib-a"],
  allowedTools: [],
};

/** The cheap encoder's bytes, decoded, against the generic encoder's message, and the bytes themselves. */
function expectSameCheckResponse(decision: Decision, settings: EnvoySettings): void {
  const generic = checkResponseOf(decision, settings);
  const cheap = checkResponseEncoder(settings)(decision);
  expect(equals(CheckResponseSchema, fromBinary(CheckResponseSchema, cheap), generic)).toBe(true);
  expect(Buffer.from(cheap).toString("hex")).toBe(Buffer.from(toBinary(CheckResponseSchema, generic)).toString("hex"));
}

describe("the CheckResponse encoder of the lean gRPC path", () => {
  it.each<[string, Decision, Partial<EnvoySettings>]>([
    ["an allow with every identity header and access-log metadata", allow("ok", { ...IDENTITY, issuerAlias: "corp-idp", credentialType: "jwt" }, "kafka:read"), {}],
    ["an allow without libraries, which removes that header", allow("ok", { ...IDENTITY, libraries: [] }, "kafka:read"), {}],
    ["an allow on a public route, without an identity", allow("public_resource"), {}],
    ["an allow that strips the client's Authorization header", allow("ok", IDENTITY, "kafka:read"), { removeAuthorization: true }],
    ["a denial for a missing token, with its Bearer challenge", deny("unauthenticated", "missing_credential"), {}],
    ["a denial for an invalid token, naming the metadata URL", deny("unauthenticated", "invalid_token"), { resourceMetadataUrl: "https://api.example.com/.well-known/oauth-protected-resource" }],
    ["a denial for a missing scope, with an insufficient_scope challenge", deny("forbidden", "insufficient_scope", IDENTITY, "kafka:write"), {}],
    ["a denial for a missing scope without the 403 challenge", deny("forbidden", "insufficient_scope", IDENTITY, "kafka:write"), { omitForbiddenChallenge: true }],
    ["a denial without a challenge", deny("forbidden", "no_policy"), {}],
    [
      "a login denial naming the upstream's login URL",
      { ...deny("unauthenticated", "upstream_login_required", IDENTITY, "repos"), upstreamToken: "github" },
      { upstreamLoginUrls: new Map([["github", "https://portal.example/login/github"]]) },
    ],
  ])("writes the same message as the generic encoder for %s", (_name, decision, settings) => {
    expectSameCheckResponse(decision, { ...SETTINGS, ...settings });
  });

  it("writes what any decision under any settings makes the generic encoder write", () => {
    const decision = anyDecision();
    const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,12}$/);
    const settings: fc.Arbitrary<EnvoySettings> = fc.record({
      identityHeaders: fc.record({
        subject: headerName,
        tokenId: headerName,
        scopes: headerName,
        libraries: headerName,
        credentialType: headerName,
        issuer: headerName,
        owner: headerName,
      }),
      removeAuthorization: fc.boolean(),
      realm: fc.stringMatching(/^[a-z.]{1,16}$/),
      omitForbiddenChallenge: fc.boolean(),
      resourceMetadataUrl: fc.option(fc.constant("https://api.example.com/.well-known/oauth-protected-resource"), { nil: undefined }),
    });
    fc.assert(fc.property(decision, settings, (any, configured) => expectSameCheckResponse(any, configured)));
  });
});
