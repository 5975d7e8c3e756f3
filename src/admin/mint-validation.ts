import { CONTROL_CHARACTER } from "../control-characters.js";
import { InvalidArgumentError } from "../errors.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";

export interface MintInput {
  scopes: string[];
  name: string;
  allowedLibraries: string[];
  allowedTools: string[];
  ttlMs?: number;
}

const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;
const PRINTABLE = /^[\x21-\x7e]+$/;
const ADMIN_SCOPE_PREFIX = "auth:tokens";

/** Checks a mint request; returns it with lists de-duplicated. */
export function validateMint(input: MintInput): MintInput {
  const scopes = checkedList("scopes", input.scopes, 100, 200);
  if (scopes.length === 0) throw new InvalidArgumentError("scopes", "at least one scope is required");
  for (const scope of scopes) {
    if (scope === WILDCARD_SCOPE) throw new InvalidArgumentError("scopes", '"*" cannot be minted');
    if (scope === ADMIN_SCOPE_PREFIX || scope.startsWith(`${ADMIN_SCOPE_PREFIX}:`)) {
      throw new InvalidArgumentError("scopes", `"${scope}" cannot be minted: token administration needs a root token`);
    }
  }
  checkedName("name", input.name);
  if (input.ttlMs !== undefined && (!(input.ttlMs > 0) || input.ttlMs > MAX_TTL_MS)) {
    throw new InvalidArgumentError("ttl", "must be positive and at most 10 years");
  }
  return {
    ...input,
    scopes,
    allowedLibraries: checkedList("allowed_libraries", input.allowedLibraries, 1000, 256),
    allowedTools: checkedList("allowed_tools", input.allowedTools, 1000, 256),
  };
}

/** A list of printable, space-free entries within limits, de-duplicated. */
export function checkedList(field: string, values: string[], maxCount: number, maxLength: number): string[] {
  if (values.length > maxCount) throw new InvalidArgumentError(field, `at most ${maxCount} entries`);
  for (const value of values) {
    if (value.length > maxLength || !PRINTABLE.test(value)) {
      throw new InvalidArgumentError(field, `entries must be 1-${maxLength} printable characters without spaces`);
    }
  }
  return [...new Set(values)];
}

/** A display name: at most 200 characters, no control characters. */
export function checkedName(field: string, name: string): string {
  if (name.length > 200 || CONTROL_CHARACTER.test(name)) {
    throw new InvalidArgumentError(field, "at most 200 characters, no control characters");
  }
  return name;
}
