import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from "jose";

export type DiscoveryMode = "oidc" | "rfc8414";

/** Answers an extra endpoint; `url` is the request's URL resolved against the issuer. */
export type ProviderRoute = (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => void;

/** JSON answer; no-store as RFC 6749 §5.1 asks of token responses (harmless for the others). */
export function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
}

/** A signing key made in the test: private half signs, public half is published. */
export interface TestKey {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function generateTestKey(alg: "RS256" | "PS256" | "ES256" | "EdDSA", kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } };
}

/**
 * A real identity provider on a local port: discovery metadata (OIDC or
 * RFC 8414 only), a JWKS it counts fetches of, and signing with its keys.
 * It can be stopped and started again on the same port. Further endpoints
 * (an OAuth authorization server's) are added with `route`.
 */
export class OidcProvider {
  jwksFetches = 0;
  private published: TestKey[] = [];
  private server?: http.Server;
  private port = 0;
  /** Extra JWKS entries (e.g. an HMAC-confusable public key) served as is. */
  extraJwks: JWK[] = [];
  /** Delay before answering the JWKS, so concurrent requests overlap a fetch. */
  jwksDelayMs = 0;
  /** Extra metadata members (e.g. endpoints of added routes) served as is. */
  extraMetadata: Record<string, unknown> = {};
  private readonly routes = new Map<string, ProviderRoute>();

  constructor(private readonly discovery: DiscoveryMode = "oidc", private readonly issuerPath = "") {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}${this.issuerPath}`;
  }

  get jwksUri(): string {
    return `http://127.0.0.1:${this.port}/keys`;
  }

  publish(...keys: TestKey[]): void {
    this.published = keys;
  }

  async start(): Promise<void> {
    const server = http.createServer((request, response) => this.answer(request, response));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  route(method: string, path: string, answer: ProviderRoute): void {
    this.routes.set(`${method} ${path}`, answer);
  }

  async sign(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, sub: "user-1", iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT", ...header })
      .sign(key.privateKey);
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = request.url ?? "";
    const json = (body: unknown) => sendJson(response, 200, body);
    const metadata = { issuer: this.issuer, jwks_uri: this.jwksUri, ...this.extraMetadata };
    if (this.discovery === "oidc" && path === `${this.issuerPath}/.well-known/openid-configuration`) return json(metadata);
    if (path === `/.well-known/oauth-authorization-server${this.issuerPath}`) return json(metadata);
    if (path === "/keys") {
      this.jwksFetches++;
      const body = { keys: [...this.published.map((key) => key.publicJwk), ...this.extraJwks] };
      setTimeout(() => json(body), this.jwksDelayMs);
      return;
    }
    const url = new URL(path, this.issuer);
    const route = this.routes.get(`${request.method} ${url.pathname}`);
    if (route !== undefined) return route(request, response, url);
    sendJson(response, 404, { error: "not_found" });
  }
}
