import type { DcrRecord } from "../../model/dcr-record.js";
import type { OAuthFlowRecord } from "../../model/oauth-flow-record.js";
import type { OwnerStatus } from "../../model/owner.js";
import type { StoredSigningKey } from "../../model/signing-key.js";
import type { StoredTeam } from "../../model/team.js";
import type { StoredToken } from "../../model/token.js";
import type { UpstreamTokenRecord } from "../../model/upstream-token.js";

/** A DCR entry and when it is evicted (Unix ms; absent: kept until deleted). */
export interface EmbeddedDcrEntry {
  record: DcrRecord;
  evictAt?: number;
}

/**
 * A pending OAuth flow, or the marker of a consumed one kept until the flow
 * would have expired, naming the consumption (absent in files written before
 * flows could be put back).
 */
export type EmbeddedOAuthState = { record: OAuthFlowRecord } | { consumedUntil: number; claim?: string };

/**
 * The embedded store in memory. Records are kept in Maps, never in plain
 * objects: ids come from callers (a forged JWT's `kid` or `sub`), and an id
 * such as `__proto__` or `constructor` would otherwise reach the members
 * every object inherits.
 */
export interface EmbeddedState {
  format: 1;
  tokens: Map<string, StoredToken>;
  bootstrapTokenId?: string;
  signingKeys: Map<string, StoredSigningKey>;
  activeSigningKid?: string;
  teams: Map<string, StoredTeam>;
  /** id → value and the moment (ms) the record lapses; lapsed records are purged on write. */
  jti: Map<string, { value: number; until: number }>;
  /** By the encoded DCR key (src/model/dcr-key.ts). */
  dcr: Map<string, EmbeddedDcrEntry>;
  /** Lease id and expiry (Unix ms) by the encoded DCR key. */
  dcrLeases: Map<string, { leaseId: string; expiresAt: number }>;
  /** By state id (the hash of the state). */
  oauthStates: Map<string, EmbeddedOAuthState>;
  /** Owners whose state was ever changed, by owner id. */
  owners: Map<string, OwnerStatus>;
  /** The vault, by the encoded key (src/model/upstream-token.ts); secrets sealed. */
  upstreamTokens: Map<string, UpstreamTokenRecord>;
}

/** The members holding records by id; in the data file each is a JSON object. */
const RECORD_MEMBERS = ["tokens", "signingKeys", "teams", "jti", "dcr", "dcrLeases", "oauthStates", "owners", "upstreamTokens"] as const;

export function emptyEmbeddedState(): EmbeddedState {
  return {
    format: 1,
    tokens: new Map(),
    signingKeys: new Map(),
    teams: new Map(),
    jti: new Map(),
    dcr: new Map(),
    dcrLeases: new Map(),
    oauthStates: new Map(),
    owners: new Map(),
    upstreamTokens: new Map(),
  };
}

/**
 * Reads a parsed data file; bump `format` on incompatible changes. A member
 * a file lacks starts empty, so a file written before a record kind existed
 * still opens.
 */
export function embeddedStateFrom(value: unknown): EmbeddedState {
  if (!isJsonObject(value)) throw new Error("does not hold a JSON object");
  if (value.format !== 1) throw new Error(`has format ${JSON.stringify(value.format)}; this version reads format 1`);
  const state: EmbeddedState = {
    format: 1,
    tokens: recordsIn(value, "tokens"),
    signingKeys: recordsIn(value, "signingKeys"),
    teams: recordsIn(value, "teams"),
    jti: recordsIn(value, "jti"),
    dcr: recordsIn(value, "dcr"),
    dcrLeases: recordsIn(value, "dcrLeases"),
    oauthStates: recordsIn(value, "oauthStates"),
    owners: recordsIn(value, "owners"),
    upstreamTokens: recordsIn(value, "upstreamTokens"),
  };
  for (const member of ["bootstrapTokenId", "activeSigningKid"] as const) {
    const text = value[member];
    if (text === undefined) continue;
    if (typeof text !== "string") throw new Error(`holds ${member} that is not a string`);
    state[member] = text;
  }
  return state;
}

/** The data file's text for `state`. */
export function embeddedStateJson(state: EmbeddedState): string {
  const file: Record<string, unknown> = { ...state };
  // Object.fromEntries defines own members, so an id named `__proto__` is written like any other.
  for (const member of RECORD_MEMBERS) file[member] = Object.fromEntries(state[member]);
  return JSON.stringify(file);
}

/** JSON.parse makes every name, `__proto__` too, an own member, so Object.entries sees them all. */
function recordsIn<Value>(file: Record<string, unknown>, member: (typeof RECORD_MEMBERS)[number]): Map<string, Value> {
  const records = file[member];
  if (records === undefined) return new Map();
  if (!isJsonObject(records)) throw new Error(`holds ${member} that is not a JSON object`);
  return new Map(Object.entries(records) as [string, Value][]);
}

function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
