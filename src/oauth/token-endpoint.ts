import { FailedPreconditionError, InvalidArgumentError, UnavailableError } from "../errors.js";
import { boundedFetch, endpointName, jsonObject, type HttpLimits } from "../upstream/bounded-fetch.js";

export const TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
export type TokenEndpointAuthMethod = (typeof TOKEN_ENDPOINT_AUTH_METHODS)[number];

/** The method to use: as registered, or RFC 7591's default (basic with a secret, none without). */
export function resolveAuthMethod(method: string, clientSecret: string): TokenEndpointAuthMethod {
  const resolved = method === "" ? (clientSecret === "" ? "none" : "client_secret_basic") : method;
  if (!(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(resolved)) {
    throw new InvalidArgumentError("token_endpoint_auth_method", `"${resolved}" is not supported (${TOKEN_ENDPOINT_AUTH_METHODS.join(", ")})`);
  }
  if (resolved !== "none" && clientSecret === "") {
    throw new InvalidArgumentError("client_secret", `is required for ${resolved}`);
  }
  return resolved as TokenEndpointAuthMethod;
}

export interface CodeExchange extends TokenClient {
  code: string;
  redirectUri: string;
  codeVerifier: string;
  resource: string;
}

export interface TokenResponse {
  accessToken: string;
  tokenType: string;
  expiresIn: number;
  refreshToken: string;
  scope: string;
  idToken: string;
}

/** RFC 6749 error codes are printable ASCII without '"' and '\'; anything else is not echoed. */
const OAUTH_ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

/** The client authenticating at the token endpoint. */
export interface TokenClient {
  tokenEndpoint: string;
  clientId: string;
  clientSecret: string;
  authMethod: TokenEndpointAuthMethod;
}

export interface RefreshGrant extends TokenClient {
  refreshToken: string;
  resource: string;
}

/**
 * A refusal by the token endpoint: an OAuth error answer (RFC 6749 §5.2),
 * naming its error code (checked to be a plain token, so it may be echoed).
 */
export class TokenEndpointRefusal extends FailedPreconditionError {
  constructor(
    message: string,
    readonly oauthError: string,
  ) {
    super(message);
  }
}

/**
 * The authorization-code grant (RFC 6749 §4.1.3) with the PKCE verifier
 * (RFC 7636 §4.5). Refusals by the server (an OAuth error answer) are
 * TokenEndpointRefusal (FailedPrecondition) naming its error code; any other
 * failure is Unavailable (UnreachableError when the request never left).
 * Neither carries the response body (error_description can echo request data).
 */
export async function exchangeCode(exchange: CodeExchange, http: HttpLimits): Promise<TokenResponse> {
  const form = new URLSearchParams({
    grant_type: "authorization_code",
    code: exchange.code,
    redirect_uri: exchange.redirectUri,
    code_verifier: exchange.codeVerifier,
  });
  if (exchange.resource !== "") form.set("resource", exchange.resource);
  return tokenRequest(exchange, form, http, "token_exchange_rejected: the token endpoint refused the code");
}

/** The refresh-token grant (RFC 6749 §6), failing as exchangeCode does. */
export async function refreshTokens(grant: RefreshGrant, http: HttpLimits): Promise<TokenResponse> {
  const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: grant.refreshToken });
  if (grant.resource !== "") form.set("resource", grant.resource);
  return tokenRequest(grant, form, http, "token_refresh_rejected: the token endpoint refused the refresh token");
}

async function tokenRequest(client: TokenClient, form: URLSearchParams, http: HttpLimits, refusal: string): Promise<TokenResponse> {
  const headers: Record<string, string> = {
    "content-type": "application/x-www-form-urlencoded",
    accept: "application/json",
  };
  if (client.authMethod === "client_secret_basic") {
    // RFC 6749 §2.3.1: both parts form-encoded before base64.
    const credentials = `${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials, "utf8").toString("base64")}`;
  } else {
    form.set("client_id", client.clientId);
    if (client.authMethod === "client_secret_post") form.set("client_secret", client.clientSecret);
  }
  // A redirect is not followed: it would carry the code or refresh token and the secret elsewhere.
  const response = await boundedFetch(
    client.tokenEndpoint,
    { method: "POST", headers, body: form.toString(), redirect: "manual" },
    http,
    "token endpoint",
  );
  const where = endpointName(client.tokenEndpoint);
  if (response.status >= 500) throw new UnavailableError(`token endpoint (${where}) answered HTTP ${response.status}`);
  const body = jsonObject(response);
  if (response.status !== 200) {
    // Only an OAuth error answer (RFC 6749 §5.2) is a refusal; anything else is not a token endpoint working.
    if (typeof body?.error !== "string" || !OAUTH_ERROR_CODE.test(body.error)) {
      throw new UnavailableError(`token endpoint (${where}) answered HTTP ${response.status} without an OAuth error`);
    }
    throw new TokenEndpointRefusal(`${refusal} (${body.error})`, body.error);
  }
  const text = (name: string) => (typeof body?.[name] === "string" ? (body[name] as string) : "");
  if (text("access_token") === "" || text("token_type") === "") {
    throw new FailedPreconditionError("token_response_invalid: no access_token or token_type in the token endpoint's answer");
  }
  const expiresIn = body?.expires_in;
  return {
    accessToken: text("access_token"),
    tokenType: text("token_type"),
    expiresIn: typeof expiresIn === "number" && Number.isSafeInteger(expiresIn) && expiresIn > 0 ? expiresIn : 0,
    refreshToken: text("refresh_token"),
    scope: text("scope"),
    idToken: text("id_token"),
  };
}

function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
