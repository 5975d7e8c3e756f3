/**
 * Every Redis key Portcullis uses is built here. The default prefix carries
 * a hash tag ("{portcullis}:") so that all keys of one deployment share a
 * Redis Cluster slot and multi-key scripts stay legal there; a custom prefix
 * should keep one hash tag for the same reason.
 */
export const DEFAULT_REDIS_PREFIX = "{portcullis}:";

export interface RedisKeys {
  /** Hash: `data` (immutable JSON), `revoked_at`, `last_used_at`. */
  token(id: string): string;
  /** Sorted set of token ids scored by creation time. */
  readonly tokenIndex: string;
  /** String: id of the bootstrap root token, set once. */
  readonly bootstrapMarker: string;
  /** Hash: `data` (immutable JSON, key material included), `retired_at`. */
  signingKey(kid: string): string;
  /** Sorted set of kids scored by creation time. */
  readonly signingKeyIndex: string;
  /** String: kid of the key that signs now. */
  readonly activeSigningKey: string;
  /** Hash: `data` (immutable JSON), `libraries` (JSON), `active_jti`, `deactivated_at`. */
  team(id: string): string;
  /** Sorted set of team ids scored by creation time. */
  readonly teamIndex: string;
  /** String with a PX expiry: one jti record (id is a digest, see jti-ledger). */
  jti(id: string): string;
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    token: (id) => `${prefix}token:${id}`,
    tokenIndex: `${prefix}tokens`,
    bootstrapMarker: `${prefix}bootstrap`,
    signingKey: (kid) => `${prefix}signing-key:${kid}`,
    signingKeyIndex: `${prefix}signing-keys`,
    activeSigningKey: `${prefix}signing-key-active`,
    team: (id) => `${prefix}team:${id}`,
    teamIndex: `${prefix}teams`,
    jti: (id) => `${prefix}jti:${id}`,
  };
}
