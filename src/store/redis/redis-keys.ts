import { createHash } from "node:crypto";
import { encodeDcrKey, type DcrKey } from "../../model/dcr-key.js";
import type { UpstreamTokenKey } from "../../model/upstream-token.js";

/**
 * Every Redis key Portcullis uses is built here; docs/storage.md shows the
 * layout in one table. Two kinds of key:
 *
 * - Shared records (teams, signing keys, their indexes, the active-key
 *   pointer, the bootstrap marker) sit under the prefix itself, whose hash
 *   tag ("{portcullis}:") keeps them in one Cluster slot: they are few, and
 *   scripts change a record and its index together.
 * - Per-record keys (tokens, owners, jti records, pending OAuth flows), the ones that
 *   grow with traffic, take a hash tag of their own after the prefix with its
 *   braces dropped (`portcullis:{tok:<id>}`), so a Cluster spreads them over
 *   every master. Nothing indexes them: a listing SCANs every master.
 *
 * Vault entries (upstream tokens) take the hash tag of their principal
 * (`portcullis:{utok:<principal digest>}`), so that one principal's
 * entries, their index and their refresh leases share a slot: listing or
 * deleting a principal's entries is one script, not a SCAN of every master.
 *
 * DCR entries live under a prefix of their own, so that they can sit in
 * ToolHive's namespace (`thv:auth:{<namespace>:<name>}:`) with ToolHive's
 * exact key layout (docs/oauth-client-state.md); registration leases share that
 * prefix (and so its slot) because a Put releases the lease atomically.
 */
export const DEFAULT_REDIS_PREFIX = "{portcullis}:";

export interface RedisKeys {
  /** Hash: `data` (immutable JSON), `revoked_at`, `deactivated_at`, `last_used_at`. */
  token(id: string): string;
  /** SCAN pattern matching every token hash and nothing else. */
  readonly tokenPattern: string;
  /** The id of a token hash found by `tokenPattern`. */
  tokenId(key: string): string;
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
  /** String: JSON of one vault entry, its secrets sealed. */
  upstreamToken(key: UpstreamTokenKey): string;
  /** SCAN pattern matching every vault entry (of every principal) and nothing else. */
  readonly upstreamTokenPattern: string;
  /** Set: the upstream ids a principal has vault entries for. */
  upstreamTokenIndex(principal: string): string;
  /** String: id of the refresh lease on one vault entry, expiring with the lease. */
  upstreamTokenLease(key: UpstreamTokenKey): string;
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
  /** Hash: `deactivated_at` (while deactivated), `changed_at`, `changed_by`; absent for an owner never changed. */
  owner(id: string): string;
  /** String with a PX expiry: one jti record (id is a digest, see jti-ledger). */
  jti(id: string): string;
  /**
   * Pub/sub channel, not a key: every change that can take access away
   * publishes `token:<id>`, `team:<id>`, `signing_key:<kid>` or `owner:<id>` here, from
   * inside the script that writes it (docs/caching.md).
   */
  readonly invalidations: string;
  /** The layout before per-record hash tags (release 1), read only to move its records (redis-layout-migration.ts). */
  readonly legacy: LegacyKeys;
}

/** A per-record kind of the first layout: where its keys were, and where each one goes now. */
export interface LegacyKind {
  /** SCAN pattern of the kind's keys in the first layout. */
  readonly pattern: string;
  /** SCAN pattern of the kind's keys parked while they move (same slot as `pattern`'s). */
  readonly parkedPattern: string;
  /** Where a first-layout key (or its parked copy) is parked, in its own slot. */
  parked(legacyKey: string): string;
  /** The key a first-layout (or parked) key moves to. */
  target(legacyKey: string): string;
}

export interface LegacyKeys {
  readonly kinds: readonly LegacyKind[];
  /** The sorted set that indexed every token in the first layout; nothing reads it now. */
  readonly tokenIndex: string;
}

export function redisKeys(prefix: string, dcrPrefix: string = prefix): RedisKeys {
  // Redis hashes only the first {…} of a key: the prefix's tag must go for a record's own to count.
  const base = prefix.replace(/[{}]/g, "");
  const own = (kind: string, id: string) => `${base}{${kind}:${id}}`;
  const tokenStart = `${base}{tok:`;
  return {
    token: (id) => own("tok", id),
    tokenPattern: `${globEscape(tokenStart)}*}`,
    tokenId: (key) => key.slice(tokenStart.length, -1),
    bootstrapMarker: `${prefix}bootstrap`,
    dcr: (key) => `${dcrPrefix}dcr:${encodeDcrKey(key)}`,
    dcrPattern: (issuer) =>
      issuer === undefined
        ? `${globEscape(`${dcrPrefix}dcr:`)}*`
        : `${globEscape(`${dcrPrefix}dcr:${Buffer.byteLength(issuer, "utf8")}:${issuer}:`)}*`,
    // "dcr-lease:" rather than "dcr:..." so that a SCAN for "dcr:*" (ours or ToolHive's) never meets a lease.
    dcrLease: (key) => `${dcrPrefix}dcr-lease:${encodeDcrKey(key)}`,
    oauthState: (stateId) => own("oauth", stateId),
    // Digests keep arbitrary principals and upstream ids (colons, braces) out of the key syntax.
    upstreamToken: (key) => `${own("utok", digest(key.principal))}:entry:${digest(key.upstreamId)}`,
    upstreamTokenPattern: `${globEscape(`${base}{utok:`)}*}:entry:*`,
    upstreamTokenIndex: (principal) => `${own("utok", digest(principal))}:index`,
    upstreamTokenLease: (key) => `${own("utok", digest(key.principal))}:lease:${digest(key.upstreamId)}`,
    signingKey: (kid) => `${prefix}signing-key:${kid}`,
    signingKeyIndex: `${prefix}signing-keys`,
    activeSigningKey: `${prefix}signing-key-active`,
    team: (id) => `${prefix}team:${id}`,
    teamIndex: `${prefix}teams`,
    jti: (id) => own("jti", id),
    owner: (id) => own("owner", id),
    invalidations: `${prefix}invalidations`,
    legacy: {
      kinds: [
        legacyKind(prefix, "token:", (id) => own("tok", id)),
        legacyKind(prefix, "jti:", (id) => own("jti", id)),
        legacyKind(prefix, "oauth-state:", (id) => own("oauth", id)),
      ],
      tokenIndex: `${prefix}tokens`,
    },
  };
}

function legacyKind(prefix: string, kind: string, target: (id: string) => string): LegacyKind {
  const start = `${prefix}${kind}`;
  const parkedStart = `${prefix}moving:${kind}`;
  const idOf = (key: string) => key.slice(key.startsWith(parkedStart) ? parkedStart.length : start.length);
  return {
    pattern: `${globEscape(start)}*`,
    parkedPattern: `${globEscape(parkedStart)}*`,
    parked: (key) => `${parkedStart}${idOf(key)}`,
    target: (key) => target(idOf(key)),
  };
}
function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 32);
}

/** Escapes the characters SCAN MATCH treats as a pattern. */
function globEscape(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}
