/** The scope that grants every other scope (never an empty requirement). */
export const WILDCARD_SCOPE = "*";

/**
 * True when `granted` satisfies `required`: "*" or an exact match. An empty
 * requirement is satisfied by nothing, "*" included.
 */
export function grantsScope(granted: readonly string[], required: string): boolean {
  if (required === "") return false;
  return granted.includes(WILDCARD_SCOPE) || granted.includes(required);
}
