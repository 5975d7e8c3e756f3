import { InvalidArgumentError } from "../errors.js";
import { isUpstreamIssuer } from "../upstream/upstream-url.js";

/** An issuer as the allow-list compares it: byte for byte, less one trailing slash. */
export function comparableIssuer(issuer: string): string {
  return issuer.endsWith("/") ? issuer.slice(0, -1) : issuer;
}

/**
 * `oauth.allowed_issuers`: a list from the file, or comma-separated text
 * from the environment. Each entry is an issuer URL (https; http to a
 * loopback address is accepted here but only usable with
 * `oauth.dev_allow_private_upstreams`).
 */
export function parseAllowedIssuers(field: string, value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const entries = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(entries)) throw new InvalidArgumentError(field, "must be a list of issuer URLs");
  return entries.map((entry: unknown, index) => {
    const issuer = typeof entry === "string" ? entry.trim() : entry;
    if (typeof issuer !== "string" || !isUpstreamIssuer(issuer)) {
      throw new InvalidArgumentError(`${field}[${index}]`, "must be an https issuer URL without credentials, query or fragment");
    }
    return comparableIssuer(issuer);
  });
}
