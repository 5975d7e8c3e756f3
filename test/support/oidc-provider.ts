import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT } from "jose";

export interface ProviderClient {
  clientId: string;
  clientSecret?: string;
  authMethod: "client_secret_basic" | "client_secret_post" | "none";
}

interface PendingCode {
  clientId: string;
  redirectUri: string;
  challenge: string;
  nonce?: string;
  scope: string;
}

export interface OidcProvider {
  readonly issuer: string;
  /** When set, ID tokens carry this nonce instead of the one requested. */
  idTokenNonce?: string;
  /** Every token request's client authentication as the provider saw it. */
  readonly tokenRequests: { clientId: string; via: ProviderClient["authMethod"] }[];
  /** Follows an authorization URL as a browser whose user consents; the redirect's code and state. */
  authorize(authorizationUrl: string): Promise<{ code: string; state: string; redirectUri: string }>;
  close(): Promise<void>;
}

/**
 * A small but real OpenID Provider on 127.0.0.1: discovery, /authorize,
 * /token (client authentication as registered, PKCE S256 checked, codes
 * single-use), /jwks, ES256 ID tokens carrying the request's nonce. Keys
 * are generated per provider.
 */
export async function startOidcProvider(clients: ProviderClient[]): Promise<OidcProvider> {
  const { publicKey, privateKey } = await generateKeyPair("ES256");
  const kid = randomBytes(8).toString("hex");
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" }] };
  const codes = new Map<string, PendingCode>();
  const tokenRequests: OidcProvider["tokenRequests"] = [];
  let issuer = "";

  const json = (response: ServerResponse, status: number, body: object) => {
    response.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
  };

  async function token(request: IncomingMessage, response: ServerResponse, provider: OidcProvider): Promise<void> {
    const form = new URLSearchParams(await readBody(request));
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? "");
    let clientId: string;
    let secret: string | undefined;
    let via: ProviderClient["authMethod"];
    if (basic) {
      const [id, password] = Buffer.from(basic[1]!, "base64").toString("utf8").split(":").map((part) => decodeURIComponent(part.replace(/\+/g, " ")));
      [clientId, secret, via] = [id ?? "", password, "client_secret_basic"];
    } else {
      clientId = form.get("client_id") ?? "";
      secret = form.get("client_secret") ?? undefined;
      via = secret === undefined ? "none" : "client_secret_post";
    }
    tokenRequests.push({ clientId, via });
    const client = clients.find((candidate) => candidate.clientId === clientId);
    if (client === undefined || client.authMethod !== via || client.clientSecret !== secret) {
      return json(response, 401, { error: "invalid_client" });
    }
    const pending = codes.get(form.get("code") ?? "");
    codes.delete(form.get("code") ?? "");
    if (form.get("grant_type") !== "authorization_code" || pending === undefined || pending.clientId !== clientId) {
      return json(response, 400, { error: "invalid_grant", error_description: "unknown code" });
    }
    if (form.get("redirect_uri") !== pending.redirectUri) return json(response, 400, { error: "invalid_grant", error_description: "redirect_uri" });
    const verifier = form.get("code_verifier") ?? "";
    if (createHash("sha256").update(verifier).digest("base64url") !== pending.challenge) {
      return json(response, 400, { error: "invalid_grant", error_description: `PKCE verification failed for ${verifier}` });
    }
    const body: Record<string, unknown> = {
      access_token: `at-${randomBytes(16).toString("hex")}`,
      token_type: "Bearer",
      expires_in: 3600,
      refresh_token: `rt-${randomBytes(16).toString("hex")}`,
      scope: pending.scope,
    };
    if (pending.scope.split(" ").includes("openid")) {
      body.id_token = await new SignJWT({ nonce: provider.idTokenNonce ?? pending.nonce })
        .setProtectedHeader({ alg: "ES256", kid })
        .setIssuer(issuer)
        .setAudience(clientId)
        .setSubject("user-42")
        .setIssuedAt()
        .setExpirationTime("5m")
        .sign(privateKey);
    }
    json(response, 200, body);
  }

  function authorizeEndpoint(url: URL, response: ServerResponse): void {
    const query = url.searchParams;
    const client = clients.find((candidate) => candidate.clientId === query.get("client_id"));
    const redirectUri = query.get("redirect_uri") ?? "";
    if (client === undefined || query.get("response_type") !== "code" || query.get("code_challenge_method") !== "S256") {
      return json(response, 400, { error: "invalid_request" });
    }
    const code = randomBytes(16).toString("base64url");
    codes.set(code, {
      clientId: client.clientId,
      redirectUri,
      challenge: query.get("code_challenge") ?? "",
      nonce: query.get("nonce") ?? undefined,
      scope: query.get("scope") ?? "",
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    target.searchParams.set("state", query.get("state") ?? "");
    response.writeHead(302, { location: target.toString() }).end();
  }

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", issuer);
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(response, 200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ["code"],
        code_challenge_methods_supported: ["S256"],
        token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
      });
    }
    if (url.pathname === "/jwks") return json(response, 200, jwks);
    if (url.pathname === "/authorize" && request.method === "GET") return authorizeEndpoint(url, response);
    if (url.pathname === "/token" && request.method === "POST") {
      token(request, response, provider).catch(() => json(response, 500, { error: "server_error" }));
      return;
    }
    json(response, 404, { error: "not_found" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider: OidcProvider = {
    get issuer() {
      return issuer;
    },
    tokenRequests,
    async authorize(authorizationUrl) {
      const response = await fetch(authorizationUrl, { redirect: "manual" });
      const location = response.headers.get("location");
      if (response.status !== 302 || location === null) throw new Error(`authorize answered ${response.status}: ${await response.text()}`);
      const redirect = new URL(location);
      return {
        code: redirect.searchParams.get("code") ?? "",
        state: redirect.searchParams.get("state") ?? "",
        redirectUri: `${redirect.origin}${redirect.pathname}`,
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return provider;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
