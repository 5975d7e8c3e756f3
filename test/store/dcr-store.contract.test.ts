import { beforeAll, expect, it } from "vitest";
import { InvalidArgumentError, NotFoundError } from "../../src/errors.js";
import { canonicalDcrKey, type DcrKeyInput } from "../../src/oauth/dcr-key-input.js";
import type { DcrRegistry } from "../../src/oauth/dcr-registry.js";
import { describeDcrContract } from "../support/dcr-backends.js";
import { EXAMPLE_KEY, exampleResolution, nowSeconds } from "../support/dcr-fixtures.js";

describeDcrContract("entries", ({ registry, freshKey }) => {
  let dcr: DcrRegistry;
  beforeAll(() => {
    dcr = registry();
  });

  it("returns what was put, with the scope set as its canonical hash", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution(), "");
    const entry = await dcr.get({ ...key, scopes: ["profile", "openid"] });
    expect(entry.record).toMatchObject({
      key: { ...canonicalDcrKey(key), scopesHash: "e06d77376803ad66ce2f60db77f612061837ca694e408c52e9896012e07dd930" },
      clientId: "client-123",
      clientSecret: "s3cret-client-value",
      registrationAccessToken: "reg-access-token-value",
      providerName: "example-idp",
      tokenEndpointAuthMethod: "client_secret_basic",
    });
    expect(entry.record.createdAt).toBeGreaterThanOrEqual(nowSeconds() - 5);
    expect(entry.stale).toBe(false);
  });

  it("keeps entries apart that differ in any one key part", async () => {
    const base = freshKey();
    const variants: DcrKeyInput[] = [
      base,
      { ...base, upstreamId: "https://other-idp.example.com" },
      { ...base, redirectUri: `${base.redirectUri}/2` },
      { ...base, scopes: ["openid"] },
      { ...base, issuer: `${base.issuer}:8443` },
    ];
    await Promise.all(variants.map((key, index) => dcr.put(key, exampleResolution({ clientId: `client-${index}` }), "")));
    const clientIds = await Promise.all(variants.map(async (key) => (await dcr.get(key)).record.clientId));
    expect(clientIds).toEqual(variants.map((_, index) => `client-${index}`));
  });

  it("overwrites an entry with a second put", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientId: "first" }), "");
    await dcr.put(key, exampleResolution({ clientId: "second", clientSecret: "" }), "");
    const entry = await dcr.get(key);
    expect([entry.record.clientId, entry.record.clientSecret, entry.hasClientSecret]).toEqual(["second", "", false]);
  });

  it("answers NotFound for a key never put, and for a deleted one", async () => {
    const key = freshKey();
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await dcr.put(key, exampleResolution(), "");
    await dcr.delete(key);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
    await expect(dcr.delete(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it.each([
    ["key.issuer", { key: { issuer: "" } }],
    ["key.upstream_id", { key: { upstreamId: "" } }],
    ["key.redirect_uri", { key: { redirectUri: "" } }],
    ["key.scopes_hash", { key: { scopes: undefined, scopesHash: "" } }],
    ["key.scopes_hash", { key: { scopes: undefined, scopesHash: "E06D" } }],
    ["key.scopes", { key: { scopes: ["open id"] } }],
    ["resolution.client_id", { resolution: { clientId: "" } }],
    ["resolution.authorization_endpoint", { resolution: { authorizationEndpoint: "" } }],
    ["resolution.authorization_endpoint", { resolution: { authorizationEndpoint: "ftp://idp.example.com/a" } }],
    ["resolution.token_endpoint", { resolution: { tokenEndpoint: "" } }],
    ["resolution.token_endpoint", { resolution: { tokenEndpoint: "http://idp.example.com/token" } }],
    ["resolution.authorization_endpoint", { resolution: { authorizationEndpoint: "http://idp.example.com/authorize" } }],
    ["resolution.registration_client_uri", { resolution: { registrationClientUri: "https://idp.example.com/register#client" } }],
    ["resolution.redirect_uri", { resolution: { redirectUri: "https://elsewhere.example.com/cb" } }],
    ["resolution.client_secret_expires_at", { resolution: { clientSecretExpiresAt: -1 } }],
  ] as const)("rejects a put naming %s and stores nothing", async (field, change) => {
    const key = freshKey();
    const badKey = { ...key, ...("key" in change ? change.key : {}) };
    const resolution = exampleResolution("resolution" in change ? change.resolution : {});
    const failure = await dcr.put(badKey, resolution, "").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(InvalidArgumentError);
    expect((failure as InvalidArgumentError).field).toBe(field);
    await expect(dcr.get(key)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("rejects a put without a resolution", async () => {
    await expect(dcr.put(freshKey(), undefined, "")).rejects.toMatchObject({ field: "resolution" });
  });

  it("lists entries without their secrets, filtered by issuer", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution(), "");
    await dcr.put({ ...key, upstreamId: "public-idp" }, exampleResolution({ clientSecret: "", registrationAccessToken: "" }), "");
    const listed = await dcr.list(key.issuer);
    expect(listed.map((entry) => [entry.record.key.upstreamId, entry.hasClientSecret]).sort()).toEqual([
      ["https://idp.example.com", true],
      ["public-idp", false],
    ]);
    for (const entry of listed) expect([entry.record.clientSecret, entry.record.registrationAccessToken]).toEqual(["", ""]);
    expect((await dcr.list("")).length).toBeGreaterThanOrEqual(2);
  });

  it("keeps every one of many concurrent puts to distinct keys", async () => {
    const issuer = freshKey().issuer;
    const keys = Array.from({ length: 25 }, (_, index) => ({ ...EXAMPLE_KEY, issuer, upstreamId: `idp-${index}` }));
    await Promise.all(keys.map((key, index) => dcr.put(key, exampleResolution({ clientId: `c-${index}` }), "")));
    const listed = await dcr.list(issuer);
    expect(listed.map((entry) => entry.record.clientId).sort()).toEqual(keys.map((_, index) => `c-${index}`).sort());
  });

  it("ends concurrent puts to one key with one whole entry", async () => {
    const key = freshKey();
    await Promise.all(
      Array.from({ length: 10 }, (_, index) =>
        dcr.put(key, exampleResolution({ clientId: `c-${index}`, clientSecret: `secret-${index}` }), ""),
      ),
    );
    const { record } = await dcr.get(key);
    expect(record.clientSecret).toBe(`secret-${record.clientId.slice(2)}`);
  });
});
