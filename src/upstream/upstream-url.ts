import { InvalidArgumentError } from "../errors.js";
import { parsedUrl } from "../http-semantics/http-url.js";

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/**
 * Whether `value` may name an upstream authorization server: https, or
 * plain http to this machine only (local development), where nothing
 * crosses a network in clear. This is the URL's shape alone; an OAuth flow's
 * connections are further held to the address policy (address-policy.ts),
 * which refuses plain http and loopback outside development.
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
  const url = parsedUrl(value);
  return url !== undefined && url.username === "" && url.password === "" ? url : undefined;
}

/** An endpoint of an upstream authorization server a caller gives; InvalidArgumentError naming `field`, never echoing the value. */
export function checkedUpstreamUrl(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!isUpstreamUrl(value)) {
    throw new InvalidArgumentError(field, "must be an https URL (http only to a loopback address) without credentials or fragment");
  }
  return value;
}

/** Whether `value` may name an upstream issuer (OIDC Discovery §3: no query, no fragment). */
export function isUpstreamIssuer(value: string): boolean {
  return isUpstreamUrl(value) && new URL(value).search === "";
}

/** An issuer identifier a caller gives; InvalidArgumentError, never echoing the value. */
export function checkedUpstreamIssuer(value: string): string {
  if (value === "") throw new InvalidArgumentError("upstream_issuer", "is required");
  if (!isUpstreamIssuer(value)) {
    throw new InvalidArgumentError("upstream_issuer", "must be an https URL (http only to a loopback address) without query or fragment");
  }
  return value;
}
