import type { DcrKey } from "./dcr-key.js";

/** Names one vault entry: whose upstream token, for which upstream. */
export interface UpstreamTokenKey {
  /** The Portcullis principal (a credential's subject, such as `token:tok_…`) the token is kept for. */
  principal: string;
  /** The upstream's name, as policy rules ask for it (`upstream_token: <upstream id>`). */
  upstreamId: string;
}

/**
 * An upstream access token kept for a principal (the vault), with what it
 * takes to refresh it. The secret fields are sealed (src/sealing/secret-sealer.ts)
 * with a context naming the entry and field; the vault refuses to keep any
 * without an encryption key.
 */
export interface UpstreamTokenRecord extends UpstreamTokenKey {
  /** Sealed. */
  accessToken: string;
  /** Sealed; empty when the upstream gave none (the token then cannot be refreshed). */
  refreshToken: string;
  tokenType: string;
  scopes: string[];
  /** When the access token expires (Unix ms); 0 when the upstream gave no lifetime. */
  expiresAt: number;
  createdAt: number;
  /** When the access token was last obtained (Unix ms): the login, or the last refresh. */
  refreshedAt: number;
  /** Where and as whom the refresh-token grant is made. */
  tokenEndpoint: string;
  clientId: string;
  tokenEndpointAuthMethod: string;
  /** Set when the client came from a DCR resolution: its secret is read from there at each refresh. */
  dcrKey?: DcrKey;
  /** Sealed; the secret of a client given inline to the flow; empty for DCR and public clients. */
  clientSecret: string;
  /** RFC 8707 resource indicator of the flow, sent again with each refresh; may be empty. */
  resource: string;
}

/** What listing shows of an entry: never a secret. */
export type UpstreamTokenMetadata = Pick<
  UpstreamTokenRecord,
  "principal" | "upstreamId" | "scopes" | "expiresAt" | "createdAt" | "refreshedAt" | "tokenEndpoint" | "clientId"
> & { refreshable: boolean };

export function upstreamTokenMetadata(record: UpstreamTokenRecord): UpstreamTokenMetadata {
  return {
    principal: record.principal,
    upstreamId: record.upstreamId,
    scopes: [...record.scopes],
    expiresAt: record.expiresAt,
    createdAt: record.createdAt,
    refreshedAt: record.refreshedAt,
    tokenEndpoint: record.tokenEndpoint,
    clientId: record.clientId,
    refreshable: record.refreshToken !== "",
  };
}

/** `<bytes>:<principal>:<upstream id>` (UTF-8 byte count), unambiguous although both may hold colons. */
export function encodeUpstreamTokenKey(key: UpstreamTokenKey): string {
  return `${Buffer.byteLength(key.principal, "utf8")}:${key.principal}:${key.upstreamId}`;
}
