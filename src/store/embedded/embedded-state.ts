import type { StoredSigningKey, StoredTeam, StoredToken } from "../store.js";

/**
 * Layout of the embedded data file. Each record kind owns one member; bump
 * `format` on incompatible changes.
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
}

export function emptyEmbeddedState(): EmbeddedState {
  return { format: 1, tokens: {}, signingKeys: {}, teams: {}, jti: {} };
}
