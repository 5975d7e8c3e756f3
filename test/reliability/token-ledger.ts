import { randomBytes } from "node:crypto";

/**
 * What the test knows for certain about each token it handled: minted and
 * acknowledged, revoked and acknowledged (and when), or never minted. A
 * write that failed may or may not have happened; its token becomes
 * uncertain and nothing is concluded from it.
 */
export interface TokenLedger {
  /** Acknowledged mints not revoked since, secret → token id. */
  readonly valid: Map<string, string>;
  /** Acknowledged revocations, secret → time of the acknowledgement (ms). */
  readonly revoked: Map<string, number>;
  /** Well-formed secrets that were never minted. */
  readonly unknown: readonly string[];
  /** The id a token was minted with. */
  tokenIdOf(secret: string): string | undefined;
  /** Every secret this ledger has seen (for leak searches). */
  secrets(): string[];
  minted(secret: string, tokenId: string): void;
  revokedAt(secret: string, acknowledgedAt: number): void;
  /** A write on `secret` failed: it may or may not have taken effect. */
  uncertain(secret: string): void;
  /**
   * The store was emptied: every token acknowledged before `untilMs` is gone
   * (a margin past the wipe covers acknowledgements still on their way).
   */
  wiped(untilMs: number): void;
  /**
   * An ALLOW for `secret`, asked at `askedAt`, is wrongful: the token was
   * never minted, or its revocation was acknowledged longer than
   * `propagationMs` before the question.
   */
  wrongfulAllow(secret: string, askedAt: number, propagationMs: number): boolean;
}

export function unknownSecret(): string {
  return `pcl_${randomBytes(32).toString("base64url")}`;
}

export function createTokenLedger(unknownCount = 20): TokenLedger {
  const valid = new Map<string, string>();
  const mintedAt = new Map<string, number>();
  const tokenIds = new Map<string, string>();
  const revoked = new Map<string, number>();
  /** Tokens that existed once (wiped or uncertain): an ALLOW for them proves nothing. */
  const existed = new Set<string>();
  const unknown = Array.from({ length: unknownCount }, unknownSecret);
  const unknownSet = new Set(unknown);
  return {
    valid,
    revoked,
    unknown,
    tokenIdOf: (secret) => tokenIds.get(secret),
    secrets: () => [...valid.keys(), ...revoked.keys(), ...existed],
    minted(secret, tokenId) {
      valid.set(secret, tokenId);
      tokenIds.set(secret, tokenId);
      mintedAt.set(secret, Date.now());
    },
    revokedAt(secret, acknowledgedAt) {
      valid.delete(secret);
      revoked.set(secret, acknowledgedAt);
    },
    uncertain(secret) {
      valid.delete(secret);
      existed.add(secret);
    },
    wiped(untilMs) {
      for (const secret of [...valid.keys()]) {
        if (mintedAt.get(secret)! > untilMs) continue;
        existed.add(secret);
        valid.delete(secret);
      }
      // A revoked token stays revoked in the test's eyes: after a wipe it no longer exists, so it must still be denied.
    },
    wrongfulAllow(secret, askedAt, propagationMs) {
      if (unknownSet.has(secret)) return true;
      const revokedAt = revoked.get(secret);
      return revokedAt !== undefined && askedAt > revokedAt + propagationMs;
    },
  };
}
