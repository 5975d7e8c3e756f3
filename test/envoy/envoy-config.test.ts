import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { DEFAULT_ENVOY_SETTINGS } from "../support/envoy-settings.js";

describe("Envoy and protected-resource settings", () => {
  it("default to the x-auth-* headers, realm portcullis, keeping Authorization, with challenges on 403", () => {
    const config = loadConfig({});
    expect(config.envoy).toEqual({ ...DEFAULT_ENVOY_SETTINGS, resourceMetadataUrl: undefined });
    expect(config.protectedResource).toBeUndefined();
  });

  it("each have an environment variable", () => {
    const config = loadConfig({
      PORTCULLIS_ENVOY_SUBJECT_HEADER: "X-User",
      PORTCULLIS_ENVOY_TOKEN_ID_HEADER: "x-token",
      PORTCULLIS_ENVOY_SCOPES_HEADER: "x-scopes",
      PORTCULLIS_ENVOY_LIBRARIES_HEADER: "x-libs",
      PORTCULLIS_ENVOY_CREDENTIAL_TYPE_HEADER: "x-credential",
      PORTCULLIS_ENVOY_ISSUER_HEADER: "x-issuer",
      PORTCULLIS_ENVOY_OWNER_HEADER: "x-user-id",
      PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION: "true",
      PORTCULLIS_ENVOY_REALM: "corp",
      PORTCULLIS_ENVOY_RESOURCE_METADATA_URL: "https://api.example.com/.well-known/oauth-protected-resource",
      PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE: "1",
      PORTCULLIS_PROTECTED_RESOURCE: '{"resource": "https://api.example.com", "authorization_servers": ["https://auth.example.com"]}',
    });
    expect(config.envoy).toEqual({
      identityHeaders: {
        subject: "x-user",
        tokenId: "x-token",
        scopes: "x-scopes",
        libraries: "x-libs",
        credentialType: "x-credential",
        issuer: "x-issuer",
        owner: "x-user-id",
      },
      removeAuthorization: true,
      realm: "corp",
      resourceMetadataUrl: "https://api.example.com/.well-known/oauth-protected-resource",
      omitForbiddenChallenge: true,
    });
    expect(config.protectedResource).toEqual({ resource: "https://api.example.com", authorization_servers: ["https://auth.example.com"] });
  });

  it.each([
    [{ PORTCULLIS_ENVOY_SUBJECT_HEADER: "x user" }, /PORTCULLIS_ENVOY_SUBJECT_HEADER: "x user" is not a header name/],
    [{ PORTCULLIS_ENVOY_SUBJECT_HEADER: "Authorization" }, /cannot carry the identity/],
    [{ PORTCULLIS_ENVOY_SCOPES_HEADER: "x-auth-subject" }, /identity headers need different names/],
    [{ PORTCULLIS_ENVOY_ISSUER_HEADER: "x-auth-credential-type" }, /identity headers need different names/],
    [{ PORTCULLIS_ENVOY_REALM: 'a"b' }, /PORTCULLIS_ENVOY_REALM: must be non-empty, without quotes/],
    [{ PORTCULLIS_ENVOY_RESOURCE_METADATA_URL: "/relative" }, /must be an absolute http\(s\) URL/],
    [{ PORTCULLIS_PROTECTED_RESOURCE: "authorization_servers: [https://a]" }, /protected_resource.resource: is required/],
    [{ PORTCULLIS_PROTECTED_RESOURCE: "{resource: 'ftp://x'}" }, /protected_resource.resource: must be an absolute http\(s\) URL/],
    [{ PORTCULLIS_PROTECTED_RESOURCE: "{resource: 'https://x', scope_supported: [a]}" }, /scope_supported: unknown key \(did you mean scopes_supported\?\)/],
    [{ PORTCULLIS_PROTECTED_RESOURCE: "{resource: 'https://x', authorization_servers: 'https://a'}" }, /must be a list of strings/],
  ])("refuse %o", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });
});
