import { CONTROL_CHARACTER } from "../control-characters.js";
import { InvalidArgumentError } from "../errors.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";
import { optionalOwner } from "./owner-admin.js";

export interface MintInput {
  scopes: string[];
  name: string;
  allowedLibraries: string[];
  allowedTools: string[];
  ttlMs?: number;
  /** The user the token belongs to; empty or absent: none. */
  owner?: string;
}

const MAX_TTL_MS = 10 * 365 * 24 * 3600 * 1000;
/** The range google/protobuf/duration.proto documents: about ±10,000 years. */
const MAX_DURATION_SECONDS = 315_576_000_000n;
const MAX_DURATION_NANOS = 999_999_999;
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
  const owner = optionalOwner("owner", input.owner);
  const { owner: _given, ...rest } = input;
  return {
    ...rest,
    ...(owner === undefined ? {} : { owner }),
    scopes,
    allowedLibraries: checkedList("allowed_libraries", input.allowedLibraries, 1000, 256),
    allowedTools: checkedList("allowed_tools", input.allowedTools, 1000, 256),
  };
}

/**
 * A google.protobuf.Duration as whole milliseconds (a part below one is
 * dropped), once it is one the proto allows: seconds and nanos within
 * their documented ranges and not of opposite signs. Whether the TTL
 * itself is acceptable is validateMint's to say.
 */
export function ttlMsOf(duration: { seconds: bigint; nanos: number }): number {
  const { seconds, nanos } = duration;
  if (seconds > MAX_DURATION_SECONDS || seconds < -MAX_DURATION_SECONDS) {
    throw new InvalidArgumentError("ttl.seconds", "must be within ±315,576,000,000 (google.protobuf.Duration)");
  }
  if (!Number.isInteger(nanos) || nanos > MAX_DURATION_NANOS || nanos < -MAX_DURATION_NANOS) {
    throw new InvalidArgumentError("ttl.nanos", "must be within ±999,999,999 (google.protobuf.Duration)");
  }
  if ((seconds > 0n && nanos < 0) || (seconds < 0n && nanos > 0)) {
    throw new InvalidArgumentError("ttl", "seconds and nanos must not have opposite signs (google.protobuf.Duration)");
  }
  return Number(seconds) * 1000 + Math.trunc(nanos / 1_000_000);
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
