import { hash } from "node:crypto";
import type { JWTPayload } from "jose";
import { LRUCache } from "lru-cache";
import type { Clock } from "../../clock.js";
import type { Identity } from "../../model/identity.js";
import type { CacheCoherence, Invalidatable } from "./cache-coherence.js";
import type { CacheBounds } from "./coherent-cache.js";

/**
 * What a verifier made of a token it verified, when that depends on the
 * token and the verifier's settings alone: enough to answer the token again
 * without taking it apart.
 */
export interface Vouched {
  /** The verifier's mark (its settings object): a verifier recalls only what it vouched for itself, never a replaced configuration's. */
  by: object;
  /** The header members that chose the key, to ask the issuer whether it still offers that key. */
  header: { alg: string; kid?: string };
  identity: Readonly<Identity>;
  /**
   * For an identity made of store records as well as the token: whether the
   * record caches still hold those very records, asked on every recall.
   */
  stillHeld?: () => boolean;
}

interface VerifiedJwt {
  issuer: string;
  /** The key object the signature was checked with. */
  key: object;
  payload: Readonly<JWTPayload>;
  /** Last moment (ms, exclusive) the signature checks accepted it: `exp` plus leeway. */
  validUntil: number;
  vouched?: Vouched;
}

/** A token's entry as recall answers it: who verified it, with which key, and what was made of it. */
export interface Recalled {
  readonly issuer: string;
  readonly key: object;
  readonly vouched: Vouched;
}

/**
 * JWTs whose signature and time claims passed, by a SHA-256 of the token
 * (the token itself is never a key in memory longer than its request), each
 * until `min(exp + leeway, ttl)`, and only while the key that checked it is
 * still the key its issuer offers for it: the caller looks the key up on
 * every request (a JWKS past its staleness or without that key any more
 * ends the entry). What passed is a fact about the token and that key,
 * never about the store, so entries stay usable while the invalidation feed
 * is down; the store's part of a decision (key retired, team deactivated,
 * token rotated, owner deactivated) is read on every request through the
 * record caches (a recalled team token: found unchanged in them). Emptied
 * with every other cache.
 */
export class VerifiedJwtCache implements Invalidatable {
  private readonly entries: LRUCache<string, VerifiedJwt>;

  constructor(
    coherence: CacheCoherence,
    private readonly bounds: CacheBounds,
    private readonly clock: Clock,
  ) {
    this.entries = new LRUCache<string, VerifiedJwt>({ max: bounds.maxEntries, ttl: bounds.ttlMs, perf: { now: clock }, ttlResolution: 0 });
    coherence.register(this);
  }

  /** The payload `issuer`'s checks accepted for this token with `key`, while it is still valid. */
  get(token: string, issuer: string, key: object): Readonly<JWTPayload> | undefined {
    const entry = this.valid(token);
    return entry !== undefined && entry.issuer === issuer && entry.key === key ? entry.payload : undefined;
  }

  /**
   * The entry of a token a verifier vouched for, while it is still valid.
   * Whether its key is still offered, and by the same verifier, is the
   * recalling verifier's to check.
   */
  recall(token: string): Recalled | undefined {
    const entry = this.valid(token);
    return entry?.vouched === undefined ? undefined : (entry as Recalled);
  }

  /** `validUntil` undefined: the token has no `exp`, and is kept for the bound only. */
  keep(token: string, issuer: string, key: object, payload: JWTPayload, validUntil: number | undefined): void {
    const until = validUntil ?? Number.POSITIVE_INFINITY;
    const left = Math.min(until - this.clock(), this.bounds.ttlMs);
    if (left <= 0) return;
    this.entries.set(digest(token), { issuer, key, payload: Object.freeze(payload), validUntil: until }, { ttl: left });
  }

  /**
   * Adds to the entry `key` verified what the verifier made of it; the
   * entry ends when it would have (vouching never lengthens it), and
   * without an entry nothing is kept.
   */
  vouch(token: string, key: object, vouched: Vouched): void {
    const entry = this.entries.get(digest(token));
    if (entry !== undefined && entry.key === key) entry.vouched = vouched;
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private valid(token: string): VerifiedJwt | undefined {
    const entry = this.entries.get(digest(token));
    return entry !== undefined && entry.validUntil > this.clock() ? entry : undefined;
  }
}

/** The one-shot `hash` digests a short string in about half the time of a createHash object. */
function digest(token: string): string {
  return hash("sha256", token, "base64url");
}
