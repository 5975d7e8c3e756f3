import { B64TOKEN } from "./bearer.js";

/** One token from a legacy token file. */
export interface TokenFileEntry {
  line: number;
  secret: string;
  scopes: string[];
  name?: string;
  createdAt?: number;
}

export interface TokenFileProblem {
  line: number;
  /** Says what is wrong without repeating the line (it holds a secret). */
  message: string;
}

const SCOPE = /^[\x21-\x7e]+$/;

/**
 * Parses the legacy format: `<token>` grants "*";
 * `<token>\t<scopes comma-separated>[\t<name>[\t<createdAt>]]` grants those
 * scopes. `#` comments and blank lines are skipped. createdAt is ISO 8601 or
 * Unix seconds.
 */
export function parseTokenFile(text: string): { entries: TokenFileEntry[]; problems: TokenFileProblem[] } {
  const entries: TokenFileEntry[] = [];
  const problems: TokenFileProblem[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) return;
    const result = parseLine(raw);
    if (typeof result === "string") {
      problems.push({ line, message: result });
    } else if (seen.has(result.secret)) {
      problems.push({ line, message: "token repeats an earlier line" });
    } else {
      seen.add(result.secret);
      entries.push({ line, ...result });
    }
  });
  return { entries, problems };
}

function parseLine(raw: string): Omit<TokenFileEntry, "line"> | string {
  const fields = raw.split("\t");
  if (fields.length > 4) return `expected at most 4 tab-separated fields, found ${fields.length}`;
  const [secret = "", scopeField, name, createdField] = fields;
  if (secret.trim() !== secret || secret === "") return "token is empty or has surrounding spaces";
  if (!B64TOKEN.test(secret)) return "token has characters outside the bearer token alphabet";
  if (secret.length < 16) return "token is shorter than 16 characters";
  const scopes = scopeField === undefined ? ["*"] : scopeField.split(",").map((scope) => scope.trim());
  if (scopes.some((scope) => !SCOPE.test(scope))) return "scopes must be non-empty, comma-separated, without spaces";
  const entry: Omit<TokenFileEntry, "line"> = { secret, scopes };
  if (name !== undefined && name.trim() !== "") entry.name = name.trim();
  if (createdField !== undefined) {
    const createdAt = parseTime(createdField.trim());
    if (createdAt === undefined) return "createdAt is neither ISO 8601 nor Unix seconds";
    entry.createdAt = createdAt;
  }
  return entry;
}

function parseTime(value: string): number | undefined {
  if (/^\d{1,12}$/.test(value)) return Number(value) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
