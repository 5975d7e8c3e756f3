const MAX_KEY_ID_LENGTH = 256;
/**
 * Printable ASCII, space included. A kid only picks a key out of a set
 * fetched from the configured issuer and is compared exactly, never used
 * as a path, so IdPs' base64 kids (`/`, `+`, `=`) must pass. Control
 * characters and non-ASCII are refused: two programs may read them apart.
 */
const KEY_ID = /^[\x20-\x7e]+$/;
/** The kids Portcullis itself generates for team-token signing keys: base64url. */
const ISSUED_KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Whether a token header's `kid` may be looked up at all. */
export function isKeyId(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_KEY_ID_LENGTH && KEY_ID.test(value);
}

/** Whether `value` can name one of Portcullis's own signing keys; nothing else reaches the store. */
export function isIssuedKeyId(value: unknown): value is string {
  return typeof value === "string" && ISSUED_KEY_ID.test(value);
}
