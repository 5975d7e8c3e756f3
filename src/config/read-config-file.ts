import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.js";
import { parseYamlQuietly } from "./config-values.js";
import { isMapping } from "./env-settings.js";

/**
 * The configuration file's text as read once, with its hash: what is parsed
 * is what is hashed, so a file that changes between two reads can never be
 * loaded under the other version's hash.
 */
export interface ConfigSource {
  /** The file named by PORTCULLIS_CONFIG; absent when settings come from variables only. */
  path?: string;
  text: string;
  /** The first 16 hex digits of the SHA-256 of the file's bytes (of nothing, without a file). */
  hash: string;
}

const HASH_HEX_DIGITS = 16;

export function readConfigSource(path: string | undefined): ConfigSource {
  if (path === undefined) return { text: "", hash: hashOf(Buffer.alloc(0)) };
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  return { path, text: bytes.toString("utf8"), hash: hashOf(bytes) };
}

function hashOf(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, HASH_HEX_DIGITS);
}

/** The file's settings, unchecked; an empty file (or none) is an empty mapping. */
export function parseConfigSource(source: ConfigSource): Record<string, unknown> {
  if (source.path === undefined) return {};
  const parsed = parseYamlQuietly(source.text, "PORTCULLIS_CONFIG", source.path);
  if (parsed === null || parsed === undefined) return {};
  if (!isMapping(parsed)) throw new InvalidArgumentError("PORTCULLIS_CONFIG", `${source.path} must hold a mapping`);
  return withoutEmptyKeys(parsed);
}

/** A key written with nothing after it (`redis:` with its lines commented out) is left out, as YAML users expect. */
function withoutEmptyKeys(mapping: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(mapping)
      .filter(([, value]) => value !== null)
      .map(([key, value]) => [key, isMapping(value) ? withoutEmptyKeys(value) : value]),
  );
}
