import { CONTROL_CHARACTER } from "../control-characters.js";
import { InvalidArgumentError } from "../errors.js";

const MAX_URL_BYTES = 2048;
// Never part of a URI (RFC 3986), and each could break out of a quoted header value.
const NEVER_IN_URI = /[\s"\\<>]/;

/**
 * The URL `value` names when it is a whole absolute URI: at most 2 KiB, no
 * fragment (RFC 9728, RFC 6749 §3.1 and RFC 8707 allow none), no character
 * a URI never holds. Undefined otherwise. Every URL check builds on this.
 */
export function parsedUrl(value: string): URL | undefined {
  if (Buffer.byteLength(value, "utf8") > MAX_URL_BYTES || CONTROL_CHARACTER.test(value) || NEVER_IN_URI.test(value)) return undefined;
  if (value.includes("#") || !URL.canParse(value)) return undefined;
  return new URL(value);
}

/** An absolute URI of any scheme (a redirect URI, a resource indicator); InvalidArgumentError naming `field`, never echoing the value. */
export function checkedUri(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (parsedUrl(value) === undefined) {
    throw new InvalidArgumentError(field, `must be an absolute URI without fragment, spaces or quotes, at most ${MAX_URL_BYTES} bytes`);
  }
  return value;
}

/** An absolute http(s) URL, as RFC 9728 asks of metadata and resource URLs; InvalidArgumentError naming `field` otherwise. */
export function httpUrl(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  const url = parsedUrl(value);
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new InvalidArgumentError(field, `must be an absolute http(s) URL without fragment, spaces or quotes, at most ${MAX_URL_BYTES} bytes`);
  }
  return value;
}
