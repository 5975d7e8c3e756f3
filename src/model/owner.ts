/**
 * An owner id: opaque to Portcullis, chosen by whoever maps users (an IdP's
 * user id, an e-mail address). ASCII letters, digits and `._@-` only, first
 * a letter or digit, at most 128: no space, no case folding or Unicode
 * normalization, no character a key, header or log line would read
 * differently, so every part sees the same owner.
 */
const OWNER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export const OWNER_ID_RULE = "1-128 characters of A-Z a-z 0-9 . _ @ -, starting with a letter or digit";

/** Whether `value` can be an owner id. */
export function isOwnerId(value: string): boolean {
  return OWNER_ID.test(value);
}

/**
 * What is stored of an owner: only its state, and only once it was changed.
 * An owner without a record is active (every owner starts so).
 */
export interface OwnerStatus {
  id: string;
  /** Set while the owner is deactivated: every token and team it owns is refused (`owner_disabled`). */
  deactivatedAt?: number;
  /** When the state last changed, and the token id of the root caller who changed it. */
  changedAt: number;
  changedBy: string;
}
