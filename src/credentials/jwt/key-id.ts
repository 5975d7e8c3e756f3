const MAX_KEY_ID_LENGTH = 256;
// Key ids name keys, never places: no slashes, no dot-dot, no control characters.
const KEY_ID = /^[A-Za-z0-9_\-.=+:]+$/;

/** Whether `value` may be a key id (`kid`) at all, whoever sends it: a token header or an admin call. */
export function isKeyId(value: unknown): value is string {
  return typeof value === "string" && value.length <= MAX_KEY_ID_LENGTH && KEY_ID.test(value) && !value.includes("..");
}
