import { CONTROL_CHARACTER } from "../control-characters.js";
import { InvalidArgumentError } from "../errors.js";
import { httpUrl } from "../http-semantics/http-url.js";
import type { DcrKey } from "../model/dcr-key.js";
import type { DcrRecord } from "../model/dcr-record.js";
import { checkedUpstreamUrl } from "../upstream/upstream-url.js";

/** A resolution as callers give it (RFC 7591 names; times in Unix seconds, 0 unset). */
export interface DcrResolutionInput {
  clientId: string;
  clientSecret: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  registrationAccessToken: string;
  registrationClientUri: string;
  tokenEndpointAuthMethod: string;
  /** Empty, or equal to the key's redirect URI. */
  redirectUri: string;
  providerName: string;
  clientIdIssuedAt: number;
  clientSecretExpiresAt: number;
  /** 0 means now. */
  createdAt: number;
}

const MAX_SECRET_BYTES = 4096;
const MAX_TEXT_BYTES = 2048;

/**
 * Checks a resolution for `key`, naming the first bad field (a silent
 * no-op would leave callers with no trail), and returns the record to store.
 * Required as in ToolHive: client_id, authorization_endpoint, token_endpoint;
 * an empty client_secret is a public client. A flow sends the code and the
 * client secret to these endpoints, so they follow the rule for upstream
 * servers (https, or http to this machine).
 */
export function validResolution(input: DcrResolutionInput | undefined, key: DcrKey, nowSeconds: number): DcrRecord {
  if (input === undefined) throw new InvalidArgumentError("resolution", "is required");
  const field = (name: string) => `resolution.${name}`;
  const clientId = text(field("client_id"), input.clientId, MAX_TEXT_BYTES);
  if (clientId === "") throw new InvalidArgumentError(field("client_id"), "is required");
  const authorizationEndpoint = checkedUpstreamUrl(field("authorization_endpoint"), input.authorizationEndpoint);
  const tokenEndpoint = checkedUpstreamUrl(field("token_endpoint"), input.tokenEndpoint);
  if (input.redirectUri !== "" && input.redirectUri !== key.redirectUri) {
    throw new InvalidArgumentError(field("redirect_uri"), "must equal key.redirect_uri (or be empty)");
  }
  return {
    key,
    providerName: text(field("provider_name"), input.providerName, MAX_TEXT_BYTES),
    clientId,
    clientSecret: secret(field("client_secret"), input.clientSecret),
    tokenEndpointAuthMethod: text(field("token_endpoint_auth_method"), input.tokenEndpointAuthMethod, 64),
    registrationAccessToken: secret(field("registration_access_token"), input.registrationAccessToken),
    registrationClientUri: input.registrationClientUri === "" ? "" : httpUrl(field("registration_client_uri"), input.registrationClientUri),
    authorizationEndpoint,
    tokenEndpoint,
    clientIdIssuedAt: seconds(field("client_id_issued_at"), input.clientIdIssuedAt),
    clientSecretExpiresAt: seconds(field("client_secret_expires_at"), input.clientSecretExpiresAt),
    createdAt: seconds(field("created_at"), input.createdAt) || nowSeconds,
  };
}

function text(field: string, value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, "utf8") > maxBytes) throw new InvalidArgumentError(field, `at most ${maxBytes} bytes`);
  if (CONTROL_CHARACTER.test(value)) throw new InvalidArgumentError(field, "must not contain control characters");
  return value;
}

/** Secrets are never echoed in the error. */
function secret(field: string, value: string): string {
  if (Buffer.byteLength(value, "utf8") > MAX_SECRET_BYTES || CONTROL_CHARACTER.test(value)) {
    throw new InvalidArgumentError(field, `at most ${MAX_SECRET_BYTES} bytes without control characters`);
  }
  return value;
}

function seconds(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new InvalidArgumentError(field, "must be Unix seconds (0 for unset)");
  return value;
}
