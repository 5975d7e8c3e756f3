import type { StoredToken } from "../store/store.js";

/**
 * What may be shown of a token: everything but the hash (and the secret,
 * which is never kept). Derived from the stored record, so the type and
 * what tokenView shows cannot drift apart.
 */
export type TokenView = Omit<StoredToken, "hash"> & { active: boolean };

export function tokenView(token: StoredToken, now: number): TokenView {
  const { hash: _hash, ...shown } = token;
  const expired = token.expiresAt !== undefined && token.expiresAt <= now;
  return { ...shown, active: token.revokedAt === undefined && !expired };
}
