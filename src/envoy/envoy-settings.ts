import type { Static } from "@sinclair/typebox";
import { isOn, section, switchSetting, text } from "../settings-schema/schema-kit.js";
import { InvalidArgumentError } from "../errors.js";
import { httpUrl } from "../http-semantics/http-url.js";
import type { ChallengeSettings } from "./bearer-challenge.js";

/** Names of the request headers that carry the verified identity to the upstream. */
export interface IdentityHeaders {
  subject: string;
  tokenId: string;
  scopes: string;
  libraries: string;
  /** opaque, jwt, team_token or request_token: tells Portcullis's own credentials from external ones. */
  credentialType: string;
  /** Alias of the external issuer that vouched for the subject; removed for Portcullis's own credentials. */
  issuer: string;
  /** The user the credential belongs to; removed when it has none. */
  owner: string;
}

export interface EnvoySettings extends ChallengeSettings {
  identityHeaders: IdentityHeaders;
  /** Strip the client's Authorization header before the request reaches the upstream. */
  removeAuthorization: boolean;
  /** Leave WWW-Authenticate off 403s, for clients that take any challenge as "log in again". */
  omitForbiddenChallenge: boolean;
}

const DEFAULT_HEADERS = {
  subject: "x-auth-subject",
  token_id: "x-auth-token-id",
  scopes: "x-auth-scopes",
  libraries: "x-auth-libraries",
  credential_type: "x-auth-credential-type",
  issuer: "x-auth-issuer",
  owner: "x-auth-owner",
};
const DEFAULT_REALM = "portcullis";

const identityHeader = (key: keyof typeof DEFAULT_HEADERS, env: string, what: string) =>
  text({ env, default: DEFAULT_HEADERS[key], description: `request header carrying the ${what} to the upstream` });

export const envoySchema = section("Envoy ext_authz (`Check`): identity headers and challenges.", {
  identity_headers: section("Names of the headers that carry the verified identity to the upstream.", {
    subject: identityHeader("subject", "PORTCULLIS_ENVOY_SUBJECT_HEADER", "subject"),
    token_id: identityHeader("token_id", "PORTCULLIS_ENVOY_TOKEN_ID_HEADER", "token id"),
    scopes: identityHeader("scopes", "PORTCULLIS_ENVOY_SCOPES_HEADER", "granted scopes"),
    libraries: identityHeader("libraries", "PORTCULLIS_ENVOY_LIBRARIES_HEADER", "libraries"),
    credential_type: identityHeader("credential_type", "PORTCULLIS_ENVOY_CREDENTIAL_TYPE_HEADER", "credential type"),
    issuer: identityHeader("issuer", "PORTCULLIS_ENVOY_ISSUER_HEADER", "issuer alias of a JWT"),
    owner: identityHeader("owner", "PORTCULLIS_ENVOY_OWNER_HEADER", "owner (user id) of a token or team"),
  }),
  remove_authorization: switchSetting({
    env: "PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION",
    default: false,
    description: "strip the client's Authorization header before the request reaches the upstream",
  }),
  realm: text({ env: "PORTCULLIS_ENVOY_REALM", default: DEFAULT_REALM, description: "realm of the WWW-Authenticate challenge" }),
  resource_metadata_url: text({
    env: "PORTCULLIS_ENVOY_RESOURCE_METADATA_URL",
    defaultText: "none",
    description: "`resource_metadata` URL named in challenges (RFC 9728)",
  }),
  omit_forbidden_challenge: switchSetting({
    env: "PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE",
    default: false,
    description: "leave WWW-Authenticate off 403s, for clients that take any challenge as \"log in again\"",
  }),
});

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
// Envoy will not let ext_authz set these, or Portcullis relies on them staying as the client sent them.
const RESERVED_HEADERS = new Set(["authorization", "host", "content-length", "transfer-encoding", "te", "connection"]);

export function envoySettings(file: Static<typeof envoySchema> = {}): EnvoySettings {
  const headers = { ...DEFAULT_HEADERS, ...file.identity_headers };
  const header = (key: keyof typeof DEFAULT_HEADERS) => headerName(`envoy.identity_headers.${key}`, headers[key]);
  const identityHeaders: IdentityHeaders = {
    subject: header("subject"),
    tokenId: header("token_id"),
    scopes: header("scopes"),
    libraries: header("libraries"),
    credentialType: header("credential_type"),
    issuer: header("issuer"),
    owner: header("owner"),
  };
  const names = Object.values(identityHeaders);
  if (new Set(names).size !== names.length) {
    throw new InvalidArgumentError("envoy.identity_headers", `the ${names.length} identity headers need different names`);
  }
  return {
    identityHeaders,
    removeAuthorization: isOn(file.remove_authorization, false),
    realm: quotable("envoy.realm", file.realm ?? DEFAULT_REALM),
    resourceMetadataUrl:
      file.resource_metadata_url === undefined ? undefined : httpUrl("envoy.resource_metadata_url", file.resource_metadata_url),
    omitForbiddenChallenge: isOn(file.omit_forbidden_challenge, false),
  };
}

function headerName(field: string, value: string): string {
  const name = value.trim().toLowerCase();
  if (!HEADER_NAME.test(name)) throw new InvalidArgumentError(field, `"${value}" is not a header name`);
  if (RESERVED_HEADERS.has(name)) throw new InvalidArgumentError(field, `"${name}" cannot carry the identity`);
  return name;
}

function quotable(field: string, value: string): string {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f"\\]/.test(value)) {
    throw new InvalidArgumentError(field, "must be non-empty, without quotes, backslashes or control characters");
  }
  return value;
}
