import { createHash } from "node:crypto";

/**
 * The canonical hash of a scope set, as ToolHive computes it (so keys match
 * across both): sorted by UTF-8 bytes (Go's string order, not JavaScript's
 * UTF-16 order), duplicates removed, joined by "\n" without trimming or case
 * folding, SHA-256, lowercase hex. The newline keeps ["ab","c"] and
 * ["a","bc"] apart.
 */
export function scopesHash(scopes: readonly string[]): string {
  const sorted = [...new Set(scopes)].map((scope) => Buffer.from(scope, "utf8")).sort(Buffer.compare);
  const hash = createHash("sha256");
  sorted.forEach((bytes, index) => hash.update(index === 0 ? bytes : Buffer.concat([NEWLINE, bytes])));
  return hash.digest("hex");
}

const NEWLINE = Buffer.from("\n");

export const SCOPES_HASH_PATTERN = /^[0-9a-f]{64}$/;
