import { InvalidArgumentError } from "../errors.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether `value` may be contacted as an upstream authorization server:
 * https, or plain http to this machine only (RFC 8252 style local
 * development), where nothing crosses a network in clear.
 */
export function isUpstreamUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.username !== "" || url.password !== "" || url.hash !== "") return false;
  return url.protocol === "https:" || (url.protocol === "http:" && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127.")));
}

/** An issuer identifier (OIDC Discovery §3: no query, no fragment). */
export function checkedUpstreamIssuer(value: string): string {
  if (value === "") throw new InvalidArgumentError("upstream_issuer", "is required");
  if (!isUpstreamUrl(value) || new URL(value).search !== "") {
    throw new InvalidArgumentError("upstream_issuer", "must be an https URL (http only to a loopback address) without query or fragment");
  }
  return value;
}
