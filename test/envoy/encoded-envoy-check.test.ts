import { create, equals, fromBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { allow, type Decider, type Decision } from "../../src/decision/decision.js";
import { createEncodedEnvoyCheck, createEnvoyCheck, type EnvoyCheckDeps } from "../../src/envoy/envoy-check.js";
import type { Identity } from "../../src/model/identity.js";
import type { UpstreamAccess } from "../../src/oauth/upstream-token-vault.js";
import { CheckRequestSchema, CheckResponseSchema } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { DEFAULT_ENVOY_SETTINGS } from "../support/envoy-settings.js";

const IDENTITY: Identity = { subject: "token:tok_a", tokenId: "tok_a", credentialType: "opaque", name: "alice", scopes: ["repos"], libraries: [], allowedTools: [] };
const SWAPPED: Decision = { ...allow("ok", IDENTITY, "repos"), rule: "repos", upstreamToken: "github" };
const ENVOY = { names: ["spiffe://example.org/envoy"] };
const REQUEST = create(CheckRequestSchema, {});

function deps(decision: Decision, access: UpstreamAccess): EnvoyCheckDeps {
  const engine: Decider = { decide: async () => decision, decideCaller: async () => ({ allowed: false, denial: "forbidden", reason: "no_policy" }) };
  return {
    engine,
    settings: { ...DEFAULT_ENVOY_SETTINGS, upstreamLoginUrls: new Map([["github", "https://portal.example/login/github"]]) },
    upstreamTokens: { vault: { access: async () => access }, recipients: [ENVOY.names[0]!] },
  };
}

describe("the encoded Check of the lean gRPC path with the upstream token vault", () => {
  it.each<[string, UpstreamAccess, { names: string[] } | undefined]>([
    ["a swapped answer for a recipient", { accessToken: "upstream-at", tokenType: "Bearer" }, ENVOY],
    ["a login denial naming the login URL", { missing: true }, ENVOY],
    ["a denial for a caller without a certificate", { accessToken: "upstream-at", tokenType: "Bearer" }, undefined],
  ])("answers the same message as connect-node's Check for %s", async (_name, access, caller) => {
    const encoded = await createEncodedEnvoyCheck(deps(SWAPPED, access))(REQUEST, undefined, undefined, caller);
    const generic = await createEnvoyCheck(deps(SWAPPED, access))(REQUEST, undefined, undefined, caller);
    expect(equals(CheckResponseSchema, fromBinary(CheckResponseSchema, encoded), generic)).toBe(true);
  });

  it("sends the upstream token only to a recipient", async () => {
    const check = createEncodedEnvoyCheck(deps(SWAPPED, { accessToken: "upstream-at", tokenType: "Bearer" }));
    const toEnvoy = fromBinary(CheckResponseSchema, await check(REQUEST, undefined, undefined, ENVOY));
    const toStranger = fromBinary(CheckResponseSchema, await check(REQUEST, undefined, undefined, { names: ["spiffe://example.org/other"] }));
    expect(toEnvoy.httpResponse.case === "okResponse" && toEnvoy.httpResponse.value.headers.map((option) => option.header?.value)).toContain("Bearer upstream-at");
    expect(toStranger.status?.message).toBe("upstream_token_not_permitted");
  });
});
