import { InvalidArgumentError } from "../errors.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether `value` may be contacted as an upstream authorization server:
 * https, or plain http to this machine only (RFC 8252 style local
 * development), where nothing crosses a network in clear.
 */
export function isUpstreamUrl(value: string): boolean {
  const url = contactableUrl(value);
  if (url === undefined) return false;
  return url.protocol === "https:" || (url.protocol === "http:" && (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith("127.")));
}

/**
 * Whether an endpoint named in `issuer`'s metadata may be contacted: never
 * less protected than the issuer. Plain http to another machine only when
 * the issuer itself is (a JWT issuer may be configured so; its metadata
 * came in clear anyway).
 */
export function isIssuerEndpoint(issuer: string, endpoint: string): boolean {
  if (isUpstreamUrl(endpoint)) return true;
  return !isUpstreamUrl(issuer) && contactableUrl(issuer)?.protocol === "http:" && contactableUrl(endpoint)?.protocol === "http:";
}

/** Credentials in a URL would be sent along (and logged); a fragment has no meaning to a server. */
function contactableUrl(value: string): URL | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  return url.username === "" && url.password === "" && url.hash === "" ? url : undefined;
}

/** An issuer identifier (OIDC Discovery §3: no query, no fragment). */
export function checkedUpstreamIssuer(value: string): string {
  if (value === "") throw new InvalidArgumentError("upstream_issuer", "is required");
  if (!isUpstreamUrl(value) || new URL(value).search !== "") {
    throw new InvalidArgumentError("upstream_issuer", "must be an https URL (http only to a loopback address) without query or fragment");
  }
  return value;
}
