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
