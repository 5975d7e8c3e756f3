import type { StoredToken } from "../store.js";

/**
 * Layout of the embedded data file. Each record kind owns one member; bump
 * `format` on incompatible changes.
 */
export interface EmbeddedState {
  format: 1;
  tokens: Record<string, StoredToken>;
  bootstrapTokenId?: string;
}

export function emptyEmbeddedState(): EmbeddedState {
  return { format: 1, tokens: {} };
}
