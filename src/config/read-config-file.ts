import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "../errors.js";
import { parseYamlQuietly } from "./config-values.js";
import { isMapping } from "./env-settings.js";

/** The file named by PORTCULLIS_CONFIG, unchecked; an empty file is an empty mapping. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  const parsed = parseYamlQuietly(text, "PORTCULLIS_CONFIG", path);
  if (parsed === null || parsed === undefined) return {};
  if (!isMapping(parsed)) throw new InvalidArgumentError("PORTCULLIS_CONFIG", `${path} must hold a mapping`);
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
