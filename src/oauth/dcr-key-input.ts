import { CONTROL_CHARACTER } from "../control-characters.js";
import { InvalidArgumentError } from "../errors.js";
import type { DcrKey } from "../model/dcr-key.js";
import { checkedScopes } from "./scope-list.js";
import { SCOPES_HASH_PATTERN, scopesHash } from "./scopes-hash.js";

/** A key as callers give it: the scope set as its hash or, taking precedence, as the scopes. */
export interface DcrKeyInput {
  issuer: string;
  upstreamId: string;
  redirectUri: string;
  scopesHash?: string;
  scopes?: readonly string[];
}

/** Checks a key, naming the first bad field, and computes its scope hash when scopes were given. */
export function canonicalDcrKey(input: DcrKeyInput | undefined, field = "key"): DcrKey {
  if (input === undefined) throw new InvalidArgumentError(field, "is required");
  return {
    issuer: checkedPart(`${field}.issuer`, input.issuer, 2048),
    upstreamId: checkedPart(`${field}.upstream_id`, input.upstreamId, 256),
    redirectUri: checkedPart(`${field}.redirect_uri`, input.redirectUri, 2048),
    scopesHash: canonicalScopesHash(input, field),
  };
}

function canonicalScopesHash(input: DcrKeyInput, field: string): string {
  if (input.scopes !== undefined) return scopesHash(checkedScopes(`${field}.scopes`, input.scopes));
  if (input.scopesHash === undefined || input.scopesHash === "") {
    throw new InvalidArgumentError(`${field}.scopes_hash`, "is required (or give the scopes)");
  }
  if (!SCOPES_HASH_PATTERN.test(input.scopesHash)) {
    throw new InvalidArgumentError(`${field}.scopes_hash`, "must be 64 lowercase hex characters");
  }
  return input.scopesHash;
}

function checkedPart(field: string, value: string, maxBytes: number): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (Buffer.byteLength(value, "utf8") > maxBytes) throw new InvalidArgumentError(field, `at most ${maxBytes} bytes`);
  if (CONTROL_CHARACTER.test(value)) throw new InvalidArgumentError(field, "must not contain control characters");
  return value;
}
