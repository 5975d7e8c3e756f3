import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FailedPreconditionError, UnavailableError } from "../../src/errors.js";
import { jwksKeySourcePool } from "../../src/credentials/jwt/jwks-key-source.js";
import { jwksIdTokenVerifier } from "../../src/oauth/id-token-verifier.js";
import { IssuerDiscovery } from "../../src/upstream/issuer-discovery.js";

/**
 * A deadline no answering local server misses, even on a loaded machine: a
 * missed one fails the OIDC attempt and falls back to RFC 8414, which would
 * count a second request or report UnavailableError instead of the refusal a
 * test expects.
 */
const LIMITS = { timeoutMs: 10_000, maxBytes: 4096 };
/** Only for a provider that never answers, where the deadline is the subject. */
const TIGHT_LIMITS = { ...LIMITS, timeoutMs: 300 };
const LEEWAY_S = 30;
const idTokenVerifier = () => jwksIdTokenVerifier(jwksKeySourcePool({ fetchLimits: LIMITS }), Date.now, LEEWAY_S);

/** A local HTTP server whose behaviour each test sets. */
let handler: RequestListener = (_request, response) => response.end();
let server: Server;
let base: string;
/** The paths requested since the test began. */
let hits: string[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    hits.push(request.url ?? "");
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  hits = [];
});

const sendJson = (body: unknown, status = 200): RequestListener => (_request, response) => {
  response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};

const discoveryDocument = () => ({
  issuer: base,
  authorization_endpoint: `${base}/authorize`,
  token_endpoint: `${base}/token`,
  jwks_uri: `${base}/jwks`,
});

describe("OIDC discovery", () => {
  it("reads the endpoints and caches them", async () => {
    handler = sendJson(discoveryDocument());
    const discovery = new IssuerDiscovery(LIMITS, 60_000, Date.now);
    expect(await discovery.metadata(base)).toEqual({
      issuer: base,
      authorizationEndpoint: `${base}/authorize`,
      tokenEndpoint: `${base}/token`,
      jwksUri: `${base}/jwks`,
    });
    await discovery.metadata(base);
    expect(hits).toEqual(["/.well-known/openid-configuration"]);
  });

  it("lets concurrent lookups of one issuer share one request", async () => {
    handler = sendJson(discoveryDocument());
    const discovery = new IssuerDiscovery(LIMITS, 60_000, Date.now);
    const answers = await Promise.all([discovery.metadata(base), discovery.metadata(base), discovery.metadata(base)]);
    expect(answers.map((answer) => answer.tokenEndpoint)).toEqual([`${base}/token`, `${base}/token`, `${base}/token`]);
    expect(hits).toEqual(["/.well-known/openid-configuration"]);
  });

  it("refuses a document that names another issuer", async () => {
    handler = sendJson({ ...discoveryDocument(), issuer: "https://evil.example.com" });
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).rejects.toThrow(FailedPreconditionError);
  });

  it("refuses endpoints that are not https (or loopback http)", async () => {
    handler = sendJson({ ...discoveryDocument(), token_endpoint: "http://idp.example.com/token" });
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).rejects.toThrow(/token_endpoint/);
  });

  it("is unavailable when the provider fails, and asks again next time", async () => {
    handler = sendJson({ error: "down" }, 503);
    const discovery = new IssuerDiscovery(LIMITS, 60_000, Date.now);
    await expect(discovery.metadata(base)).rejects.toThrow(UnavailableError);
    handler = sendJson(discoveryDocument());
    await expect(discovery.metadata(base)).resolves.toMatchObject({ issuer: base });
  });

  it("gives up on a provider that does not answer in time", async () => {
    handler = () => undefined;
    const failure = await new IssuerDiscovery(TIGHT_LIMITS, 60_000, Date.now).metadata(base).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UnavailableError);
    expect((failure as Error).message).toBe(`OIDC discovery (${base}/.well-known/openid-configuration) did not answer within 300 ms`);
  });

  it("stops reading a document larger than the cap, declared or not", async () => {
    handler = sendJson({ ...discoveryDocument(), padding: "x".repeat(10_000) });
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).rejects.toThrow(/more than 4096 bytes/);
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write(`{"padding":"${"x".repeat(3000)}`);
      response.end(`${"y".repeat(3000)}"}`);
    };
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).rejects.toThrow(/more than 4096 bytes/);
  });
});

describe("RFC 8414 metadata and redirects", () => {
  const byPath = (paths: Record<string, RequestListener>): RequestListener => (request, response) =>
    (paths[request.url ?? ""] ?? sendJson({ error: "not_found" }, 404))(request, response);

  it("falls back to RFC 8414 metadata when OIDC discovery is missing", async () => {
    handler = byPath({ "/.well-known/oauth-authorization-server": sendJson(discoveryDocument()) });
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).resolves.toMatchObject({ tokenEndpoint: `${base}/token` });
  });

  it("does not follow a redirect away from the metadata location", async () => {
    let followed = false;
    handler = byPath({
      "/.well-known/openid-configuration": (_request, response) => response.writeHead(302, { location: `${base}/elsewhere` }).end(),
      "/elsewhere": (request, response) => {
        followed = true;
        sendJson(discoveryDocument())(request, response);
      },
    });
    await expect(new IssuerDiscovery(LIMITS, 60_000, Date.now).metadata(base)).rejects.toThrow(FailedPreconditionError);
    expect(followed).toBe(false);
  });
});

describe("ID token validation against the issuer's JWKS", () => {
  let key: CryptoKey;
  let foreignKey: CryptoKey;
  let published: { keys: Record<string, unknown>[] };
  const expected = () => ({ issuer: base, audience: "client-1", nonce: "n-1", jwksUri: `${base}/jwks` });
  const idToken = (claims: Record<string, unknown> = {}, signWith?: CryptoKey, expiresIn: string | number = "5m") =>
    new SignJWT({ nonce: "n-1", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer((claims.iss as string) ?? base)
      .setAudience((claims.aud as string) ?? "client-1")
      .setSubject("user-1")
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(signWith ?? key);

  beforeAll(async () => {
    const pair = await generateKeyPair("ES256");
    key = pair.privateKey;
    foreignKey = (await generateKeyPair("ES256")).privateKey;
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256" }] };
    published = jwks;
    handler = sendJson(jwks);
  });

  it("accepts a token signed by the issuer for this client with the flow's nonce", async () => {
    await expect(idTokenVerifier().verify(await idToken(), expected())).resolves.toEqual({ subject: "user-1" });
  });

  it.each([
    ["another issuer", { iss: "https://other.example.com" }, "id_token_invalid: claim iss does not match"],
    ["another audience", { aud: "client-2" }, "id_token_invalid: claim aud does not match"],
    ["another nonce", { nonce: "n-2" }, "id_token_invalid: nonce does not match the flow's"],
  ])("rejects a token for %s", async (_case, claims, message) => {
    await expect(idTokenVerifier().verify(await idToken(claims), expected())).rejects.toThrow(message);
  });

  it("rejects a token expired longer ago than the leeway", async () => {
    const expired = await idToken({}, undefined, Math.floor(Date.now() / 1000) - LEEWAY_S - 10);
    await expect(idTokenVerifier().verify(expired, expected())).rejects.toThrow("id_token_invalid: expired");
  });

  it("rejects a token signed by a key the issuer does not publish", async () => {
    await expect(idTokenVerifier().verify(await idToken({}, foreignKey), expected())).rejects.toThrow(
      "id_token_invalid: signature does not verify",
    );
  });

  it("rejects garbage without an internal error", async () => {
    await expect(idTokenVerifier().verify("not.a.jwt", expected())).rejects.toThrow(FailedPreconditionError);
  });

  it.each([
    ["names a claim twice", (header: string, payload: string) => [header, payload.replace(/\}$/, ',"sub":"admin"}')]],
    ["names a header member twice, once escaped", (header: string, payload: string) => [header.replace(/\}$/, ',"\\u006bid":"k2"}'), payload]],
  ])("refuses a token that %s before any key is fetched", async (_case, rewrite) => {
    const [header, payload, signature] = (await idToken()).split(".") as [string, string, string];
    const [newHeader, newPayload] = rewrite(Buffer.from(header, "base64url").toString(), Buffer.from(payload, "base64url").toString());
    const token = `${Buffer.from(newHeader!).toString("base64url")}.${Buffer.from(newPayload!).toString("base64url")}.${signature}`;
    await expect(idTokenVerifier().verify(token, expected())).rejects.toThrow("id_token_invalid: duplicate member name");
    expect(hits).toEqual([]);
  });

  it("is unavailable when the JWKS names a member twice: a key set two parsers read differently is no key set", async () => {
    const token = await idToken();
    const saved = handler;
    const jwk = JSON.stringify(published.keys[0]);
    handler = (_request, response) => response.writeHead(200, { "content-type": "application/json" }).end(`{"keys":[${jwk.replace(/\}$/, ',"kid":"k9"}')}]}`);
    try {
      await expect(idTokenVerifier().verify(token, expected())).rejects.toThrow(UnavailableError);
    } finally {
      handler = saved;
    }
  });

  it("is unavailable when the JWKS cannot be fetched", async () => {
    const token = await idToken();
    const saved = handler;
    handler = sendJson({ error: "down" }, 502);
    try {
      await expect(idTokenVerifier().verify(token, expected())).rejects.toThrow(UnavailableError);
    } finally {
      handler = saved;
    }
  });
});
