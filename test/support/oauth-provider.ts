import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JWTPayload } from "jose";
import type { Clients } from "./clients.js";
import { generateTestKey, OidcProvider, sendJson } from "./oidc-provider.js";

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

export interface OAuthProvider {
  readonly issuer: string;
  /** Claims that ID tokens carry instead of (or besides) the usual ones, e.g. another nonce or an `azp`. */
  idTokenClaims?: JWTPayload;
  /** Every token request's client authentication as the provider saw it. */
  readonly tokenRequests: { clientId: string; via: ProviderClient["authMethod"] }[];
  /** Discovery metadata members besides issuer and jwks_uri, served as they are at each request. */
  readonly metadata: Record<string, unknown>;
  /** Every access token it issued, in order. */
  readonly issuedAccessTokens: string[];
  /** `expires_in` of the access tokens it issues from now on. */
  accessTokenLifetimeS: number;
  /** Every refresh-token grant it answered with new tokens, in order, with the refresh token it was given. */
  readonly refreshes: { refreshToken: string; accessToken: string; newRefreshToken: string }[];
  /** Each refresh issues a new refresh token and revokes the one used (rotation); on by default. */
  rotateRefreshTokens: boolean;
  /** Milliseconds each refresh-token grant takes to answer. */
  refreshDelayMs: number;
  /** Refuses every refresh token issued so far (`invalid_grant` from now on), as a revoked grant. */
  revokeRefreshTokens(): void;
  /** Answers refresh-token grants with HTTP 503 until set back to false. */
  failRefreshes: boolean;
  /** Follows an authorization URL as a browser whose user consents; the redirect's code and state. */
  authorize(authorizationUrl: string): Promise<{ code: string; state: string; redirectUri: string }>;
  /** Stops listening (connections are refused) until `resume`, which listens on the same port again; codes issued stay valid. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  close(): Promise<void>;
}

/** Starts a login through Portcullis at `provider` for one of its clients, the call carrying the client's secret. */
export function startClientFlow(
  flow: Clients["oauthFlow"],
  auth: { headers: { authorization: string } },
  provider: OAuthProvider,
  client: { clientId: string; clientSecret: string },
  redirectUri: string,
  scopes = ["openid"],
) {
  return flow.startAuthorization(
    {
      upstreamIssuer: provider.issuer,
      clientSource: { case: "client", value: { clientId: client.clientId, clientSecret: client.clientSecret } },
      redirectUri,
      scopes,
    },
    auth,
  );
}

/**
 * A small but real OpenID Provider on 127.0.0.1: the test identity
 * provider's discovery and JWKS, plus /authorize and /token (client
 * authentication as registered, PKCE S256 checked, codes single-use) and
 * ES256 ID tokens carrying the request's nonce. Keys are generated per
 * provider.
 */
export async function startOAuthProvider(clients: ProviderClient[]): Promise<OAuthProvider> {
  const idp = new OidcProvider();
  const key = await generateTestKey("ES256", randomBytes(8).toString("hex"));
  idp.publish(key);
  const codes = new Map<string, PendingCode>();
  const tokenRequests: OAuthProvider["tokenRequests"] = [];
  /** Live refresh tokens and the grant (client, scope) each continues. */
  const refreshTokens = new Map<string, { clientId: string; scope: string }>();
  const issue = (clientId: string, scope: string) => {
    const refreshToken = `rt-${randomBytes(16).toString("hex")}`;
    refreshTokens.set(refreshToken, { clientId, scope });
    const accessToken = `at-${randomBytes(16).toString("hex")}`;
    provider.issuedAccessTokens.push(accessToken);
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: provider.accessTokenLifetimeS,
      refresh_token: refreshToken,
      scope,
    };
  };

  async function refresh(form: URLSearchParams, clientId: string, response: ServerResponse): Promise<void> {
    if (provider.refreshDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, provider.refreshDelayMs));
    if (provider.failRefreshes) return sendJson(response, 503, { error: "temporarily_unavailable" });
    const given = form.get("refresh_token") ?? "";
    const grant = refreshTokens.get(given);
    if (grant === undefined || grant.clientId !== clientId) return sendJson(response, 400, { error: "invalid_grant", error_description: "unknown refresh token" });
    const body: Record<string, unknown> = issue(clientId, grant.scope);
    if (provider.rotateRefreshTokens) {
      refreshTokens.delete(given);
    } else {
      refreshTokens.delete(body.refresh_token as string);
      delete body.refresh_token;
    }
    provider.refreshes.push({ refreshToken: given, accessToken: body.access_token as string, newRefreshToken: (body.refresh_token as string | undefined) ?? "" });
    sendJson(response, 200, body);
  }

  async function token(request: IncomingMessage, response: ServerResponse): Promise<void> {
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
      return sendJson(response, 401, { error: "invalid_client" });
    }
    if (form.get("grant_type") === "refresh_token") return refresh(form, clientId, response);
    const pending = codes.get(form.get("code") ?? "");
    codes.delete(form.get("code") ?? "");
    if (form.get("grant_type") !== "authorization_code" || pending === undefined || pending.clientId !== clientId) {
      return sendJson(response, 400, { error: "invalid_grant", error_description: "unknown code" });
    }
    if (form.get("redirect_uri") !== pending.redirectUri) return sendJson(response, 400, { error: "invalid_grant", error_description: "redirect_uri" });
    const verifier = form.get("code_verifier") ?? "";
    if (createHash("sha256").update(verifier).digest("base64url") !== pending.challenge) {
      return sendJson(response, 400, { error: "invalid_grant", error_description: `PKCE verification failed for ${verifier}` });
    }
    const body: Record<string, unknown> = issue(clientId, pending.scope);
    if (pending.scope.split(" ").includes("openid")) {
      body.id_token = await idp.sign(key, { aud: clientId, sub: "user-42", nonce: pending.nonce, ...provider.idTokenClaims });
    }
    sendJson(response, 200, body);
  }

  idp.route("GET", "/authorize", (_request, response, url) => {
    const query = url.searchParams;
    const client = clients.find((candidate) => candidate.clientId === query.get("client_id"));
    const redirectUri = query.get("redirect_uri") ?? "";
    if (client === undefined || query.get("response_type") !== "code" || query.get("code_challenge_method") !== "S256") {
      return sendJson(response, 400, { error: "invalid_request" });
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
  });
  idp.route("POST", "/token", (request, response) => {
    token(request, response).catch(() => sendJson(response, 500, { error: "server_error" }));
  });
  await idp.start();
  idp.extraMetadata = {
    authorization_endpoint: `${idp.issuer}/authorize`,
    token_endpoint: `${idp.issuer}/token`,
    response_types_supported: ["code"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
  };

  const provider: OAuthProvider = {
    issuer: idp.issuer,
    tokenRequests,
    metadata: idp.extraMetadata,
    issuedAccessTokens: [],
    accessTokenLifetimeS: 3600,
    refreshes: [],
    rotateRefreshTokens: true,
    refreshDelayMs: 0,
    failRefreshes: false,
    revokeRefreshTokens: () => refreshTokens.clear(),
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
    pause: () => idp.stop(),
    resume: () => idp.start(),
    close: () => idp.stop(),
  };
  return provider;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
