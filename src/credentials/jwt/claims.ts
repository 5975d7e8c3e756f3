import type { JWTPayload } from "jose";

/** Longest list a claim may hold, and longest entry; more is refused as garbage. */
const MAX_ENTRIES = 1000;
const MAX_ENTRY_LENGTH = 256;

/**
 * Reads a list of strings: an array of strings, or (when `spaceSeparated`)
 * a string of space-separated entries. Absent reads as empty; any other
 * shape is undefined, which callers turn into `bad_claim`.
 */
export function stringList(value: unknown, spaceSeparated: boolean): string[] | undefined {
  if (value === undefined) return [];
  let entries: unknown[];
  if (typeof value === "string" && spaceSeparated) entries = value.split(" ").filter((entry) => entry !== "");
  else if (Array.isArray(value)) entries = value;
  else return undefined;
  if (entries.length > MAX_ENTRIES) return undefined;
  const fine = entries.every((entry) => typeof entry === "string" && entry !== "" && entry.length <= MAX_ENTRY_LENGTH);
  return fine ? [...new Set(entries as string[])] : undefined;
}

/** Scopes from every claim named (`scope` space-separated, `scp` array or string, …), merged. */
export function scopesOf(payload: JWTPayload, claims: readonly string[]): string[] | undefined {
  const scopes = new Set<string>();
  for (const claim of claims) {
    const values = stringList(payload[claim], true);
    if (values === undefined) return undefined;
    for (const value of values) scopes.add(value);
  }
  return [...scopes];
}

/** A claim that must be a non-empty string; undefined otherwise. */
export function stringClaim(payload: JWTPayload, claim: string): string | undefined {
  const value = payload[claim];
  return typeof value === "string" && value !== "" ? value : undefined;
}

/** Last moment (ms) the token is accepted: `exp` plus the leeway; undefined without `exp`. */
export function validUntil(payload: JWTPayload, leewayS: number): number | undefined {
  return typeof payload.exp === "number" ? (payload.exp + leewayS) * 1000 : undefined;
}
