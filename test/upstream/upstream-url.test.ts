import { describe, expect, it } from "vitest";
import { isIssuerEndpoint } from "../../src/upstream/upstream-url.js";

describe("endpoints named in an issuer's metadata", () => {
  it.each([
    ["https://idp.example.com", "https://idp.example.com/token", true],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/jwks", true],
    ["https://idp.example.com", "http://idp.example.com/jwks", false],
    ["http://127.0.0.1:8080", "http://idp.example.com/token", false],
    ["http://keycloak:8080/realms/a", "http://keycloak:8080/realms/a/certs", true],
    ["http://keycloak:8080/realms/a", "https://user:secret@keycloak/certs", false],
    ["https://idp.example.com", "ftp://idp.example.com/jwks", false],
  ])("for issuer %s, %s may be contacted: %s", (issuer, endpoint, allowed) => {
    expect(isIssuerEndpoint(issuer, endpoint)).toBe(allowed);
  });
});
