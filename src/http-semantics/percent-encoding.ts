/**
 * Percent-encoding for header values, over the UTF-8 bytes of the text.
 * Node's UTF-8 encoder writes a lone surrogate as U+FFFD, so unlike
 * encodeURIComponent this never throws, whatever a credential carried.
 */
function percentEncode(text: string, kept: (code: number) => boolean): string {
  let plain = true;
  for (let index = 0; index < text.length && plain; index++) plain = kept(text.charCodeAt(index));
  if (plain) return text;
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    out += kept(byte) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

const PERCENT = 0x25;
const COMMA = 0x2c;

/**
 * gRPC's grpc-message encoding: printable ASCII except "%" stays, every
 * other byte is %XX. A space at either end is %20 too: an HTTP/2 field value
 * must not start or end with one (RFC 9113 §8.2.1), and clients drop it.
 */
export function grpcMessageValue(text: string): string {
  return percentEncode(text, (code) => code >= 0x20 && code <= 0x7e && code !== PERCENT).replace(/^ | $/g, "%20");
}

/**
 * An identity header value: visible ASCII stays, except "%" and "," (the
 * list separator); every other byte, space included (a proxy may trim it
 * off either end), is %XX. Any standard percent-decoder gives the value
 * back; a list is decoded entry by entry after splitting at ",".
 */
export function identityHeaderValue(text: string): string {
  return percentEncode(text, (code) => code > 0x20 && code <= 0x7e && code !== PERCENT && code !== COMMA);
}

/** A list of values in one identity header: each entry encoded, then joined with ",". */
export function identityHeaderList(values: readonly string[]): string {
  return values.map(identityHeaderValue).join(",");
}
