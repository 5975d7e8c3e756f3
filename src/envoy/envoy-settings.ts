import { InvalidArgumentError } from "../errors.js";
import type { ChallengeSettings } from "../http/bearer-challenge.js";
import { httpUrl } from "../http/http-url.js";

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
}

export interface EnvoySettings extends ChallengeSettings {
  identityHeaders: IdentityHeaders;
  /** Strip the client's Authorization header before the request reaches the upstream. */
  removeAuthorization: boolean;
  /** Leave WWW-Authenticate off 403s, for clients that take any challenge as "log in again". */
  omitForbiddenChallenge: boolean;
}

/** The `envoy:` section of the configuration file. */
export interface EnvoySettingsFile {
  identity_headers?: {
    subject?: string;
    token_id?: string;
    scopes?: string;
    libraries?: string;
    credential_type?: string;
    issuer?: string;
  };
  remove_authorization?: boolean;
  realm?: string;
  resource_metadata_url?: string;
  omit_forbidden_challenge?: boolean;
}

/** Reads one setting: environment variable first, then the file, parsed by `parse`. */
export type SettingPicker = <T>(envName: string, fromFile: T | undefined, parse: (raw: string) => T) => T | undefined;

/** Reads one switch: environment variable first, then the file, then `fallback`; anything but true/false/1/0 is refused. */
export type FlagPicker = (envName: string, fromFile: unknown, fallback: boolean) => boolean;

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
// Envoy will not let ext_authz set these, or Portcullis relies on them staying as the client sent them.
const RESERVED_HEADERS = new Set(["authorization", "host", "content-length", "transfer-encoding", "te", "connection"]);

export function envoySettings(file: EnvoySettingsFile | undefined, pick: SettingPicker, flag: FlagPicker): EnvoySettings {
  const header = (envName: string, fromFile: string | undefined, fallback: string) =>
    headerName(envName, pick(envName, fromFile, String) ?? fallback);
  const identityHeaders: IdentityHeaders = {
    subject: header("PORTCULLIS_ENVOY_SUBJECT_HEADER", file?.identity_headers?.subject, "x-auth-subject"),
    tokenId: header("PORTCULLIS_ENVOY_TOKEN_ID_HEADER", file?.identity_headers?.token_id, "x-auth-token-id"),
    scopes: header("PORTCULLIS_ENVOY_SCOPES_HEADER", file?.identity_headers?.scopes, "x-auth-scopes"),
    libraries: header("PORTCULLIS_ENVOY_LIBRARIES_HEADER", file?.identity_headers?.libraries, "x-auth-libraries"),
    credentialType: header(
      "PORTCULLIS_ENVOY_CREDENTIAL_TYPE_HEADER",
      file?.identity_headers?.credential_type,
      "x-auth-credential-type",
    ),
    issuer: header("PORTCULLIS_ENVOY_ISSUER_HEADER", file?.identity_headers?.issuer, "x-auth-issuer"),
  };
  const names = Object.values(identityHeaders);
  if (new Set(names).size !== names.length) {
    throw new InvalidArgumentError("envoy.identity_headers", `the ${names.length} identity headers need different names`);
  }
  const resourceMetadataUrl = pick("PORTCULLIS_ENVOY_RESOURCE_METADATA_URL", file?.resource_metadata_url, String);
  return {
    identityHeaders,
    removeAuthorization: flag("PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION", file?.remove_authorization, false),
    realm: quotable("PORTCULLIS_ENVOY_REALM", pick("PORTCULLIS_ENVOY_REALM", file?.realm, String) ?? "portcullis"),
    resourceMetadataUrl:
      resourceMetadataUrl === undefined ? undefined : httpUrl("PORTCULLIS_ENVOY_RESOURCE_METADATA_URL", resourceMetadataUrl),
    omitForbiddenChallenge: flag("PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE", file?.omit_forbidden_challenge, false),
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
  if (value === "" || /[\x00-\x1f\x7f"\\]/.test(value)) {
    throw new InvalidArgumentError(field, "must be non-empty, without quotes, backslashes or control characters");
  }
  return value;
}
