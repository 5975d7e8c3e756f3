import ipaddr from "ipaddr.js";
import { parse as parseYaml, YAMLError } from "yaml";
import { InvalidArgumentError } from "../errors.js";

/** Parsers for single configuration values; each names the setting it refuses, never echoing a secret. */

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

export function parseListen(field: string, value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError(field, `expected host:port, got "${value}"`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

/**
 * Whether a listen host reaches this machine only: a loopback address
 * (127.0.0.0/8, ::1, and ::ffff:127.x) or `localhost`. Any other name may
 * resolve to an address others can reach, so it counts as not loopback.
 */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  if (!ipaddr.isValid(host)) return false;
  return ipaddr.process(host).range() === "loopback";
}
