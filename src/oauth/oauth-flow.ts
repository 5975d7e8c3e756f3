import { createHash } from "node:crypto";
import type { Clock } from "../clock.js";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import { checkedUri } from "../http-semantics/http-url.js";
import type { OAuthFlowRecord } from "../model/oauth-flow-record.js";
import type { OAuthStateStore } from "../store/store.js";
import { UnreachableError, type HttpLimits } from "../upstream/bounded-fetch.js";
import type { IssuerDiscovery } from "../upstream/issuer-discovery.js";
import { checkedUpstreamIssuer, isUpstreamUrl } from "../upstream/upstream-url.js";
import type { DcrKeyInput } from "./dcr-key-input.js";
import type { DcrRegistry } from "./dcr-registry.js";
import type { IdTokenVerifier } from "./id-token-verifier.js";
import { codeChallengeS256, createCodeVerifier, randomToken } from "./pkce.js";
import { checkedScopes } from "./scope-list.js";
import type { SecretSealer } from "../sealing/secret-sealer.js";
import { exchangeCode, resolveAuthMethod, type TokenResponse } from "./token-endpoint.js";
import type { UpstreamAllowList } from "./upstream-allow-list.js";
import type { UpstreamTokenVault } from "./upstream-token-vault.js";
import { upstreamCall } from "./upstream-failure.js";

export interface StaticClient {
  clientId: string;
  clientSecret: string;
  tokenEndpointAuthMethod: string;
}

export interface StartInput {
  upstreamIssuer: string;
  /** Exactly one of dcrKey and client. */
  dcrKey?: DcrKeyInput;
  client?: StaticClient;
  redirectUri: string;
  scopes: readonly string[];
  resource: string;
  /** A root caller may name any upstream; others only those of `oauth.allowed_issuers`. */
  anyUpstream: boolean;
  /**
   * Keep the upstream tokens in the vault for `principal` under `upstreamId`
   * (empty: the DCR key's upstream id) instead of returning them.
   */
  storeUpstreamTokens?: { principal: string; upstreamId: string };
}

export interface StartResult {
  authorizationUrl: string;
  state: string;
  expiresAtMs: number;
}

export interface CompleteResult extends TokenResponse {
  /** The validated ID token's subject; empty without the openid scope. */
  subject: string;
  redirectUri: string;
  /** Where the upstream tokens were kept (and then left out of the result), for a flow that stores them. */
  vault?: { principal: string; upstreamId: string };
}

export interface OAuthFlowDeps {
  dcr: DcrRegistry;
  states: OAuthStateStore;
  discovery: IssuerDiscovery;
  allowList: UpstreamAllowList;
  idTokens: IdTokenVerifier;
  sealer: SecretSealer;
  /** Absent: flows cannot keep upstream tokens. */
  vault?: Pick<UpstreamTokenVault, "checkKeepable" | "keep">;
  clock: Clock;
  http: HttpLimits;
  stateTtlMs: number;
}

const MAX_STATE_LENGTH = 512;
const MAX_CODE_LENGTH = 4096;

/**
 * The authorization-code flow with PKCE across replicas: Start keeps the
 * verifier, nonce and client in the shared store under the hash of a fresh
 * state; Complete takes it out exactly once, exchanges the code and
 * validates the ID token.
 */
export function createOAuthFlow(deps: OAuthFlowDeps) {
  const secretContext = (stateId: string, field: string) => `oauth-state:${stateId}#${field}`;

  /** Client and endpoints of the flow, from the DCR entry or from discovery. */
  async function clientAndEndpoints(input: StartInput, upstreamIssuer: string) {
    if ((input.dcrKey === undefined) === (input.client === undefined)) {
      throw new InvalidArgumentError("client_source", "give exactly one of dcr_key and client");
    }
    if (input.dcrKey !== undefined) {
      const { record } = await deps.dcr.get(input.dcrKey);
      if (input.redirectUri !== "" && input.redirectUri !== record.key.redirectUri) {
        throw new InvalidArgumentError("redirect_uri", "must equal the DCR key's redirect_uri (or be empty)");
      }
      const endpoints = {
        authorizationEndpoint: storedEndpoint("authorization_endpoint", record.authorizationEndpoint),
        tokenEndpoint: storedEndpoint("token_endpoint", record.tokenEndpoint),
      };
      if (!input.anyUpstream) await deps.allowList.requireEndpointsOf(upstreamIssuer, endpoints);
      return {
        client: { clientId: record.clientId, clientSecret: record.clientSecret, tokenEndpointAuthMethod: record.tokenEndpointAuthMethod },
        dcrKey: record.key,
        ...endpoints,
        redirectUri: record.key.redirectUri,
      };
    }
    const client = input.client!;
    if (client.clientId === "") throw new InvalidArgumentError("client.client_id", "is required");
    if (upstreamIssuer === "") throw new InvalidArgumentError("upstream_issuer", "is required");
    if (!input.anyUpstream) deps.allowList.requireIssuer(upstreamIssuer);
    return {
      client,
      authorizationEndpoint: await discovered(upstreamIssuer, "authorizationEndpoint"),
      tokenEndpoint: await discovered(upstreamIssuer, "tokenEndpoint"),
      redirectUri: checkedUri("redirect_uri", input.redirectUri),
    };
  }

  /** An endpoint from the issuer's metadata; whatever goes wrong is one generic failure to the caller. */
  const discovered = (issuer: string, name: "authorizationEndpoint" | "tokenEndpoint" | "jwksUri") =>
    upstreamCall(() => deps.discovery.endpoint(issuer, name), { unusableAnswer: true });

  /** The secret to authenticate the code exchange with; see OAuthFlowRecord for why it is not stored. */
  async function clientSecretOf(flow: OAuthFlowRecord, given: string): Promise<string> {
    if (flow.dcrKey !== undefined) {
      if (given !== "") {
        throw new InvalidArgumentError("client_secret", "must be empty: this flow's client secret comes from its DCR resolution");
      }
      const entry = await deps.dcr.get(flow.dcrKey).catch((error: unknown) => {
        if (error instanceof NotFoundError) return undefined;
        throw error;
      });
      if (entry?.record.clientId !== flow.clientId) {
        throw new FailedPreconditionError(
          "dcr_changed: the DCR resolution this flow started with is gone or names another client; start again",
        );
      }
      return entry.record.clientSecret;
    }
    if (flow.tokenEndpointAuthMethod === "none") {
      if (given !== "") throw new InvalidArgumentError("client_secret", "must be empty: this flow's client is public");
      return "";
    }
    if (given === "") {
      throw new InvalidArgumentError(
        "client_secret",
        "is required: this flow's client was given with a secret, which is not kept between the calls",
      );
    }
    return given;
  }

  function vaultOf(input: StartInput, dcrUpstreamId: string) {
    if (input.storeUpstreamTokens === undefined) return undefined;
    if (deps.vault === undefined) throw vaultOff();
    const key = { principal: input.storeUpstreamTokens.principal, upstreamId: input.storeUpstreamTokens.upstreamId || dcrUpstreamId };
    deps.vault.checkKeepable(key);
    return key;
  }

  return {
    async start(input: StartInput): Promise<StartResult> {
      const scopes = [...new Set(checkedScopes("scopes", input.scopes))];
      const resource = input.resource === "" ? "" : checkedUri("resource", input.resource);
      const openid = scopes.includes("openid");
      const upstreamIssuer = input.upstreamIssuer === "" ? "" : checkedUpstreamIssuer(input.upstreamIssuer);
      if (openid && upstreamIssuer === "") {
        throw new InvalidArgumentError("upstream_issuer", "is required with the openid scope (to validate the ID token)");
      }
      const flow = await clientAndEndpoints(input, upstreamIssuer);
      const vault = vaultOf(input, "dcrKey" in flow ? flow.dcrKey.upstreamId : "");
      const authMethod = resolveAuthMethod(flow.client.tokenEndpointAuthMethod, flow.client.clientSecret);
      // Without keys to check it, the ID token at the end could only be refused.
      if (openid) await discovered(upstreamIssuer, "jwksUri");

      const state = randomToken();
      const stateId = stateIdOf(state);
      const codeVerifier = createCodeVerifier();
      const nonce = openid ? randomToken() : "";
      const createdAt = deps.clock();
      const record: OAuthFlowRecord = {
        upstreamIssuer,
        tokenEndpoint: flow.tokenEndpoint,
        clientId: flow.client.clientId,
        ...("dcrKey" in flow ? { dcrKey: flow.dcrKey } : {}),
        tokenEndpointAuthMethod: authMethod,
        redirectUri: flow.redirectUri,
        codeVerifier: deps.sealer.seal(codeVerifier, secretContext(stateId, "code_verifier")),
        nonce,
        scopes,
        resource,
        ...(vault === undefined ? {} : { vault }),
        createdAt,
        expiresAt: createdAt + deps.stateTtlMs,
      };
      await deps.states.insert(stateId, record);

      const url = new URL(flow.authorizationEndpoint);
      const parameters: Record<string, string> = {
        response_type: "code",
        client_id: flow.client.clientId,
        redirect_uri: flow.redirectUri,
        state,
        code_challenge: codeChallengeS256(codeVerifier),
        code_challenge_method: "S256",
      };
      if (scopes.length > 0) parameters.scope = scopes.join(" ");
      if (nonce !== "") parameters.nonce = nonce;
      if (resource !== "") parameters.resource = resource;
      for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
      return { authorizationUrl: url.toString(), state, expiresAtMs: record.expiresAt };
    },

    /** `clientSecret`: the secret of a client given inline to start (not kept); empty otherwise. */
    async complete(input: { state: string; code: string; clientSecret: string }): Promise<CompleteResult> {
      if (input.state === "" || input.state.length > MAX_STATE_LENGTH) {
        throw new InvalidArgumentError("state", `must be 1-${MAX_STATE_LENGTH} characters`);
      }
      if (input.code === "" || input.code.length > MAX_CODE_LENGTH) {
        throw new InvalidArgumentError("code", `must be 1-${MAX_CODE_LENGTH} characters`);
      }
      const stateId = stateIdOf(input.state);
      // Everything the caller can get wrong is checked before the state is used up, so a retry can fix it.
      const pending = await deps.states.find(stateId, deps.clock());
      throwIfNotPending(pending);
      const flow = pending.record;
      const clientSecret = await clientSecretOf(flow, input.clientSecret);
      const exchange = {
        tokenEndpoint: flow.tokenEndpoint,
        clientId: flow.clientId,
        clientSecret,
        authMethod: resolveAuthMethod(flow.tokenEndpointAuthMethod, clientSecret),
        code: input.code,
        redirectUri: flow.redirectUri,
        codeVerifier: deps.sealer.open(flow.codeVerifier, secretContext(stateId, "code_verifier")),
        resource: flow.resource,
      };

      // A flow is written once and never changed, so the consumed record is the one checked above.
      const consumed = await deps.states.consume(stateId, deps.clock());
      throwIfNotPending(consumed);
      const tokens = await upstreamCall(() => exchangeCode(exchange, deps.http)).catch(async (error: unknown) => {
        // The code never reached the token endpoint, so it is still good: the flow goes back for a retry.
        // Once the request may have left, the code may be spent and a retry could only replay it.
        if (error instanceof UnreachableError) {
          // A store that cannot take the flow back leaves it used up; the upstream's failure is still the answer.
          await deps.states.restore(stateId, consumed.claim, consumed.record, deps.clock()).catch(() => false);
        }
        throw error;
      });
      let subject = "";
      if (flow.nonce === "") {
        tokens.idToken = "";
      } else {
        if (tokens.idToken === "") throw new FailedPreconditionError("id_token_invalid: the token endpoint returned no ID token");
        const jwksUri = await discovered(flow.upstreamIssuer, "jwksUri");
        ({ subject } = await upstreamCall(() =>
          deps.idTokens.verify(tokens.idToken, { issuer: flow.upstreamIssuer, audience: flow.clientId, nonce: flow.nonce, jwksUri }),
        ));
      }
      if (flow.vault === undefined) return { ...tokens, subject, redirectUri: flow.redirectUri };
      if (deps.vault === undefined) throw vaultOff();
      await deps.vault.keep(flow.vault, tokens, flow, clientSecret);
      // The caller never holds the upstream tokens: requests get the access token through Envoy's Check.
      return { ...tokens, accessToken: "", refreshToken: "", subject, redirectUri: flow.redirectUri, vault: flow.vault };
    },
  };
}

export type OAuthFlow = ReturnType<typeof createOAuthFlow>;

function vaultOff(): FailedPreconditionError {
  return new FailedPreconditionError("upstream_tokens_off: this server keeps no upstream tokens (see upstream_tokens in the configuration)");
}

function throwIfNotPending<Found extends { record: OAuthFlowRecord }>(
  found: Found | { used: true } | { unknown: true },
): asserts found is Found {
  if ("used" in found) throw new FailedPreconditionError("state_used: this authorization was completed already");
  if ("unknown" in found) throw new NotFoundError("state_unknown: no pending authorization with this state (expired or never started)");
}

/** The store knows a flow by the hash of its state only: the state itself is a bearer of the flow. */
function stateIdOf(state: string): string {
  return createHash("sha256").update(state, "utf8").digest("hex");
}

/**
 * An endpoint of a stored DCR resolution, checked again when used: ToolHive
 * writes entries to the shared Redis too, past the checks of Put.
 */
function storedEndpoint(name: string, value: string): string {
  if (value === "") throw new FailedPreconditionError(`dcr_incomplete: ${name} missing`);
  if (!isUpstreamUrl(value)) {
    throw new FailedPreconditionError(`dcr_unsafe_endpoint: ${name} must be an https URL (http only to a loopback address)`);
  }
  return value;
}
