import { describe, expect, it } from "vitest";
import { unauthenticatedChallenge } from "../../src/envoy/bearer-challenge.js";

const LOGIN = "https://portal.example/login/github?next=%2Frepos";
const settings = { realm: "example", upstreamLoginUrls: new Map([["github", LOGIN]]) };

describe("the 401 Bearer challenge", () => {
  it("names the login URL of the upstream whose token is missing, with the reason as error_description", () => {
    expect(unauthenticatedChallenge(settings, "upstream_login_required", "github")).toBe(
      `Bearer realm="example", error="invalid_token", error_description="upstream_login_required", login_uri="${LOGIN}"`,
    );
  });

  it("keeps the resource metadata URL after the login URL", () => {
    expect(unauthenticatedChallenge({ ...settings, resourceMetadataUrl: "https://api.example/.well-known/oauth-protected-resource" }, "upstream_login_required", "github")).toBe(
      `Bearer realm="example", error="invalid_token", error_description="upstream_login_required", login_uri="${LOGIN}", resource_metadata="https://api.example/.well-known/oauth-protected-resource"`,
    );
  });

  it("stays the plain challenge for an upstream without a configured login URL", () => {
    expect(unauthenticatedChallenge(settings, "upstream_login_required", "gitlab")).toBe(`Bearer realm="example", error="invalid_token"`);
    expect(unauthenticatedChallenge({ realm: "example" }, "upstream_login_required", "github")).toBe(`Bearer realm="example", error="invalid_token"`);
  });

  it("names no login URL for any other reason, even with an upstream id", () => {
    expect(unauthenticatedChallenge(settings, "unknown_token", "github")).toBe(`Bearer realm="example", error="invalid_token"`);
    expect(unauthenticatedChallenge(settings, "missing_credential", "github")).toBe(`Bearer realm="example"`);
  });
});
