import type { StoredToken, TokenSource } from "../store/store.js";

/** What may be shown of a token: everything but the hash (and the secret, which is never kept). */
export interface TokenView {
  id: string;
  scopes: string[];
  name: string;
  allowedLibraries: string[];
  allowedTools: string[];
  source: TokenSource;
  createdAt: number;
  expiresAt?: number;
  lastUsedAt?: number;
  revokedAt?: number;
  active: boolean;
}

export function tokenView(token: StoredToken, now: number): TokenView {
  const { hash: _hash, ...shown } = token;
  const expired = token.expiresAt !== undefined && token.expiresAt <= now;
  return { ...shown, active: token.revokedAt === undefined && !expired };
}
