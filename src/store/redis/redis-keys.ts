import { encodeDcrKey, type DcrKey } from "../../model/dcr-key.js";

/**
 * Every Redis key Portcullis uses is built here. The default prefix carries
 * a hash tag ("{portcullis}:") so that all keys of one deployment share a
 * Redis Cluster slot and multi-key scripts stay legal there; a custom prefix
 * should keep one hash tag for the same reason.
 *
 * DCR entries live under a prefix of their own, so that they can sit in
 * ToolHive's namespace (`thv:auth:{<namespace>:<name>}:`) with ToolHive's
 * exact key layout (docs/oauth-client-state.md); registration leases share that
 * prefix (and so its slot) because a Put releases the lease atomically.
 */
export const DEFAULT_REDIS_PREFIX = "{portcullis}:";

export interface RedisKeys {
  /** Hash: `data` (immutable JSON), `revoked_at`, `last_used_at`. */
  token(id: string): string;
  /** Sorted set of token ids scored by creation time. */
  readonly tokenIndex: string;
  /** String: id of the bootstrap root token, set once. */
  readonly bootstrapMarker: string;
  /** String: ToolHive-layout JSON of one DCR resolution. */
  dcr(key: DcrKey): string;
  /** SCAN pattern matching the DCR entries (of one issuer, when given) and nothing else. */
  dcrPattern(issuer?: string): string;
  /** String: id of the registration lease on one DCR key, expiring with the lease. */
  dcrLease(key: DcrKey): string;
  /** String: JSON of one pending OAuth flow, by the hash of its state. */
  oauthState(stateId: string): string;
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
  /**
   * Pub/sub channel, not a key: every change that can take access away
   * publishes `token:<id>`, `team:<id>` or `signing_key:<kid>` here, from
   * inside the script that writes it (docs/caching.md).
   */
  readonly invalidations: string;
}

export function redisKeys(prefix: string, dcrPrefix: string = prefix): RedisKeys {
  return {
    token: (id) => `${prefix}token:${id}`,
    tokenIndex: `${prefix}tokens`,
    bootstrapMarker: `${prefix}bootstrap`,
    dcr: (key) => `${dcrPrefix}dcr:${encodeDcrKey(key)}`,
    dcrPattern: (issuer) =>
      issuer === undefined
        ? `${globEscape(`${dcrPrefix}dcr:`)}*`
        : `${globEscape(`${dcrPrefix}dcr:${Buffer.byteLength(issuer, "utf8")}:${issuer}:`)}*`,
    // "dcr-lease:" rather than "dcr:..." so that a SCAN for "dcr:*" (ours or ToolHive's) never meets a lease.
    dcrLease: (key) => `${dcrPrefix}dcr-lease:${encodeDcrKey(key)}`,
    oauthState: (stateId) => `${prefix}oauth-state:${stateId}`,
    signingKey: (kid) => `${prefix}signing-key:${kid}`,
    signingKeyIndex: `${prefix}signing-keys`,
    activeSigningKey: `${prefix}signing-key-active`,
    team: (id) => `${prefix}team:${id}`,
    teamIndex: `${prefix}teams`,
    jti: (id) => `${prefix}jti:${id}`,
    invalidations: `${prefix}invalidations`,
  };
}

/** Escapes the characters SCAN MATCH treats as a pattern. */
function globEscape(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
