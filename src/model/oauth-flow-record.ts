import type { DcrKey } from "./dcr-key.js";

/**
 * A pending authorization-code flow, keyed by the hash of its state. It
 * holds no client secret: Complete reads that again from the DCR entry
 * under `dcrKey`, or takes it from the caller.
 */
export interface OAuthFlowRecord {
  upstreamIssuer: string;
  tokenEndpoint: string;
  clientId: string;
  /** Set when the client came from a DCR resolution. */
  dcrKey?: DcrKey;
  tokenEndpointAuthMethod: string;
  redirectUri: string;
  /** Plain, or sealed when encryption is on. */
  codeVerifier: string;
  nonce: string;
  scopes: string[];
  resource: string;
  /** Set when the flow keeps the upstream tokens in the vault (`store_upstream_tokens`) instead of returning them. */
  vault?: { principal: string; upstreamId: string };
  createdAt: number;
  expiresAt: number;
}
