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
}

export function redisKeys(prefix: string): RedisKeys {
  return {
    token: (id) => `${prefix}token:${id}`,
    tokenIndex: `${prefix}tokens`,
    bootstrapMarker: `${prefix}bootstrap`,
  };
}
