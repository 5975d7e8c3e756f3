import type { DcrKeyInput } from "../../src/oauth/dcr-key-input.js";
import type { DcrResolutionInput } from "../../src/oauth/dcr-validation.js";

/** The key of the interoperability example (docs/oauth-client-state.md, "Key"). */
export const EXAMPLE_KEY: DcrKeyInput = {
  issuer: "https://thv.example.com",
  upstreamId: "https://idp.example.com",
  redirectUri: "https://thv.example.com/oauth/callback",
  scopes: ["openid", "profile"],
};

export function exampleResolution(overrides: Partial<DcrResolutionInput> = {}): DcrResolutionInput {
  return {
    clientId: "client-123",
    clientSecret: "s3cret-client-value",
    authorizationEndpoint: "https://idp.example.com/authorize",
    tokenEndpoint: "https://idp.example.com/token",
    registrationAccessToken: "reg-access-token-value",
    registrationClientUri: "https://idp.example.com/register/client-123",
    tokenEndpointAuthMethod: "client_secret_basic",
    redirectUri: "",
    providerName: "example-idp",
    clientIdIssuedAt: 0,
    clientSecretExpiresAt: 0,
    createdAt: 0,
    ...overrides,
  };
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);
