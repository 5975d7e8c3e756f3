import { parse as parseYaml, YAMLError } from "yaml";
import type { RootTokenConfig } from "./config.js";
import { InvalidArgumentError } from "./errors.js";

/** Parsers for single configuration values; each names the setting it refuses, never echoing a secret. */

export function optional<T, U>(value: T | undefined, check: (value: T) => U): U | undefined {
  return value === undefined || value === null ? undefined : check(value);
}

/**
 * YAML's own error messages quote the offending lines, which may hold a root
 * token or a password; only the position is reported.
 */
export function parseYamlQuietly(text: string, field: string, path?: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const position = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : "";
    throw new InvalidArgumentError(field, `${path ?? "value"} is not valid YAML${position}`);
  }
}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError("PORTCULLIS_LISTEN", `expected host:port, got "${value}"`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

/**
 * Every switch, from the file or the environment: true/false or 1/0, nothing
 * else. YAML reads `no` and `off` as text, and a lax check would take any
 * text for "on" — `dev_allow_all: no` would allow everything.
 */
export function strictFlag(name: string) {
  return (raw: unknown): boolean => {
    const value = typeof raw === "boolean" || typeof raw === "number" ? String(raw) : raw;
    if (value === "true" || value === "1") return true;
    if (value === "false" || value === "0") return false;
    throw new InvalidArgumentError(name, "must be true or false (or 1 or 0)");
  };
}

export function positiveInt(name: string) {
  return (raw: string | number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(name, "must be a positive integer");
    return value;
  };
}

/** A whole number from a file (number or text) or the environment (text); undefined stays undefined. */
export function wholeNumber(field: string, value: unknown, zeroAllowed = false): number | undefined {
  if (value === undefined) return undefined;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number) || number < (zeroAllowed ? 0 : 1)) {
    throw new InvalidArgumentError(field, zeroAllowed ? "must be a whole number, 0 or more" : "must be a positive whole number");
  }
  return number;
}

/** 32 bytes, base64 or base64url. The value is never echoed: it is a secret. */
export function parseEncryptionKey(raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== 32) {
    throw new InvalidArgumentError("PORTCULLIS_DCR_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded");
  }
  return key;
}

export function json(name: string) {
  return (raw: string): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      throw new InvalidArgumentError(name, "must be JSON");
    }
  };
}

export function checkedRootTokens(tokens: RootTokenConfig[]): RootTokenConfig[] {
  tokens.forEach((entry, index) => {
    if (typeof entry.token !== "string" || entry.token.length < 32) {
      // The value itself is never echoed: it is a secret.
      throw new InvalidArgumentError(`root_tokens[${index}]`, "token must be a string of at least 32 characters");
    }
  });
  return tokens;
}
