import type { DcrRecord } from "../../model/dcr-record.js";

/**
 * ToolHive's JSON for a DCR entry (its `storedDCRCredentials`), field for
 * field and in its order: optional strings are left out when empty, times
 * are Unix seconds with 0 for unset. `client_id_issued_at` is Portcullis's
 * one addition, written only when set; ToolHive's decoder ignores it.
 */
export function encodeDcrJson(record: DcrRecord): string {
  const omitEmpty = (value: string) => (value === "" ? undefined : value);
  return goStyleEscapes(
    JSON.stringify({
      key_issuer: record.key.issuer,
      key_upstream_id: record.key.upstreamId,
      key_redirect_uri: record.key.redirectUri,
      key_scopes_hash: record.key.scopesHash,
      provider_name: omitEmpty(record.providerName),
      client_id: record.clientId,
      client_secret: omitEmpty(record.clientSecret),
      token_endpoint_auth_method: omitEmpty(record.tokenEndpointAuthMethod),
      registration_access_token: omitEmpty(record.registrationAccessToken),
      registration_client_uri: omitEmpty(record.registrationClientUri),
      authorization_endpoint: omitEmpty(record.authorizationEndpoint),
      token_endpoint: omitEmpty(record.tokenEndpoint),
      created_at: record.createdAt,
      client_secret_expires_at: record.clientSecretExpiresAt,
      client_id_issued_at: record.clientIdIssuedAt === 0 ? undefined : record.clientIdIssuedAt,
    }),
  );
}

class NotAnEntry extends Error {}

/** Parses an entry written by Portcullis or ToolHive; undefined when it is not one. */
export function decodeDcrJson(text: string): DcrRecord | undefined {
  let source: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    source = parsed as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const str = (name: string, required = false): string => {
    const value = source[name] ?? (required ? undefined : "");
    if (typeof value !== "string" || (required && value === "")) throw new NotAnEntry(name);
    return value;
  };
  const seconds = (name: string): number => {
    const value = source[name] ?? 0;
    if (!Number.isSafeInteger(value)) throw new NotAnEntry(name);
    return value as number;
  };
  try {
    return {
      key: {
        issuer: str("key_issuer", true),
        upstreamId: str("key_upstream_id", true),
        redirectUri: str("key_redirect_uri", true),
        scopesHash: str("key_scopes_hash", true),
      },
      providerName: str("provider_name"),
      clientId: str("client_id", true),
      clientSecret: str("client_secret"),
      tokenEndpointAuthMethod: str("token_endpoint_auth_method"),
      registrationAccessToken: str("registration_access_token"),
      registrationClientUri: str("registration_client_uri"),
      authorizationEndpoint: str("authorization_endpoint"),
      tokenEndpoint: str("token_endpoint"),
      createdAt: seconds("created_at"),
      clientSecretExpiresAt: seconds("client_secret_expires_at"),
      clientIdIssuedAt: seconds("client_id_issued_at"),
    };
  } catch (error) {
    if (error instanceof NotAnEntry) return undefined;
    throw error;
  }
}

/**
 * Go's encoding/json escapes these where JSON.stringify does not; doing the
 * same keeps values byte-identical to what ToolHive writes. (Either form
 * decodes the same.)
 */
function goStyleEscapes(json: string): string {
  return json.replace(/[<>&\u2028\u2029]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
