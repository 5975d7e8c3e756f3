import type { DcrRecord, OAuthFlowRecord, StoredToken } from "../store.js";

/** A DCR entry and when it is evicted (Unix ms; absent: kept until deleted). */
export interface EmbeddedDcrEntry {
  record: DcrRecord;
  evictAt?: number;
}

/** A pending OAuth flow, or the marker of a consumed one kept until the flow would have expired. */
export type EmbeddedOAuthState = { record: OAuthFlowRecord } | { consumedUntil: number };

/**
 * Layout of the embedded data file. Each record kind owns one member; bump
 * `format` on incompatible changes (new members are not: a file without
 * them opens with them empty).
 */
export interface EmbeddedState {
  format: 1;
  tokens: Record<string, StoredToken>;
  bootstrapTokenId?: string;
  /** By the encoded DCR key (src/oauth/dcr-key.ts). */
  dcr: Record<string, EmbeddedDcrEntry>;
  /** Lease id and expiry (Unix ms) by the encoded DCR key. */
  dcrLeases: Record<string, { leaseId: string; expiresAt: number }>;
  /** By state id (the hash of the state). */
  oauthStates: Record<string, EmbeddedOAuthState>;
}

export function emptyEmbeddedState(): EmbeddedState {
  return { format: 1, tokens: {}, dcr: {}, dcrLeases: {}, oauthStates: {} };
}
