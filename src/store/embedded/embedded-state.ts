import type { DcrRecord, OAuthFlowRecord, StoredSigningKey, StoredTeam, StoredToken } from "../store.js";

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
  signingKeys: Record<string, StoredSigningKey>;
  activeSigningKid?: string;
  teams: Record<string, StoredTeam>;
  /** id → value and the moment (ms) the record lapses; lapsed records are purged on write. */
  jti: Record<string, { value: number; until: number }>;
  /** By the encoded DCR key (src/oauth/dcr-key.ts). */
  dcr: Record<string, EmbeddedDcrEntry>;
  /** Lease id and expiry (Unix ms) by the encoded DCR key. */
  dcrLeases: Record<string, { leaseId: string; expiresAt: number }>;
  /** By state id (the hash of the state). */
  oauthStates: Record<string, EmbeddedOAuthState>;
}

export function emptyEmbeddedState(): EmbeddedState {
  return { format: 1, tokens: {}, signingKeys: {}, teams: {}, jti: {}, dcr: {}, dcrLeases: {}, oauthStates: {} };
}

/**
 * Reads a parsed data file. A member a file lacks starts empty, so a file
 * written before a record kind existed still opens.
 */
export function embeddedStateFrom(value: unknown): EmbeddedState {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error("does not hold a JSON object");
  const { format } = value as { format?: unknown };
  if (format !== 1) throw new Error(`has format ${JSON.stringify(format)}; this version reads format 1`);
  return { ...emptyEmbeddedState(), ...(value as Partial<EmbeddedState>) };
}
