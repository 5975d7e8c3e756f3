import type { TSchema } from "@sinclair/typebox";
import { InvalidArgumentError } from "../errors.js";
import { parseYamlQuietly } from "./config-values.js";
import { closestName, type PathLabel } from "../settings-schema/schema-check.js";
import type { EnvFormat } from "../settings-schema/schema-kit.js";

export type Env = Record<string, string | undefined>;

/** A setting's environment variable, found by its `x-env` annotation in the schema. */
export interface EnvSetting {
  /** Keys from the top of the file down to the setting. */
  path: string[];
  name: string;
  format: EnvFormat;
}

type SchemaNode = Record<string, unknown>;

export function envSettings(schema: TSchema): EnvSetting[] {
  const found: EnvSetting[] = [];
  const walk = (node: SchemaNode, path: string[]) => {
    if (typeof node["x-env"] === "string") {
      const format = (node["x-env-format"] as EnvFormat | undefined) ?? (node.type === "integer" || node.type === "number" ? "number" : "text");
      found.push({ path, name: node["x-env"], format });
    }
    for (const [key, child] of Object.entries((node.properties as Record<string, SchemaNode> | undefined) ?? {})) {
      walk(child, [...path, key]);
    }
  };
  walk(schema as SchemaNode, []);
  return found;
}

/** How a value's path is named when it came from a variable. */
type Origin = (rest: string) => string;

/**
 * Writes every set variable over the file's value at its path (an empty
 * variable counts as unset), so that the schema checks values from both
 * sources alike. Root tokens from the environment are added to the file's.
 * The returned label names a refused value by the variable it came from.
 */
export function overlayEnvironment(file: Record<string, unknown>, settings: EnvSetting[], env: Env): { document: Record<string, unknown>; label: PathLabel } {
  const document = structuredClone(file);
  const origins = new Map<string, Origin>();
  for (const { path, name, format } of settings) {
    const raw = env[name];
    if (raw === undefined || raw === "") continue;
    const at = path.join(".");
    if (format === "root-tokens") {
      const existing = valueAt(document, path) ?? [];
      if (!Array.isArray(existing)) continue; // the file's own value is refused by the schema
      const tokens = raw.split(",").map((token) => token.trim());
      tokens.forEach((_, index) => origins.set(`${at}[${existing.length + index}].token`, () => `${name}[${index}]`));
      setValueAt(document, path, [...existing, ...tokens.map((token, index) => ({ token, name: `env-root-${index + 1}` }))]);
      continue;
    }
    setValueAt(document, path, envValue(name, format, raw));
    origins.set(at, format === "json" || format === "yaml" ? (rest) => `${name}: ${at}${rest}` : format === "list" ? (rest) => `${name}${rest}` : () => name);
  }
  const label: PathLabel = (path) => {
    const from = [...origins.keys()]
      .filter((at) => path === at || path.startsWith(`${at}.`) || path.startsWith(`${at}[`))
      .sort((a, b) => b.length - a.length)[0];
    return from === undefined ? path : origins.get(from)!(path.slice(from.length));
  };
  return { document, label };
}

/** `PORTCULLIS_*` variables no setting declares: likely misspelt, so named at start (never their values). */
export function unknownVariableWarnings(env: Env, known: readonly string[]): string[] {
  return Object.keys(env)
    .filter((name) => name.startsWith("PORTCULLIS_") && !known.includes(name))
    .sort()
    .map((name) => {
      const unprefixed = name.slice("PORTCULLIS_".length);
      const suggestion = known.includes(unprefixed) ? unprefixed : closestName(name, known);
      return `unknown environment variable ${name} is ignored${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`;
    });
}

function envValue(name: string, format: EnvFormat, raw: string): unknown {
  switch (format) {
    case "number":
      // Anything else stays text, which the schema then refuses with the setting's own message.
      // A decimal point is read too (a share such as 0.25); an integer setting's schema refuses a fraction.
      return /^\s*[+-]?(\d+(\.\d+)?|\.\d+)\s*$/.test(raw) ? Number(raw) : raw;
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new InvalidArgumentError(name, "must be JSON");
      }
    case "yaml":
      return parseYamlQuietly(raw, name);
    case "list":
      return raw.split(",").map((item) => item.trim());
    default:
      return raw;
  }
}

function valueAt(document: Record<string, unknown>, path: string[]): unknown {
  let node: unknown = document;
  for (const key of path) node = isMapping(node) ? node[key] : undefined;
  return node;
}

function setValueAt(document: Record<string, unknown>, path: string[], value: unknown): void {
  let node = document;
  for (const key of path.slice(0, -1)) {
    if (node[key] === undefined) node[key] = {};
    const next = node[key];
    // A section the file wrote as something else is refused by the schema as written.
    if (!isMapping(next)) return;
    node = next;
  }
  node[path[path.length - 1]!] = value;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
