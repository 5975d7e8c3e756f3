/**
 * The host a request names, read once for every transport: a canonical
 * name (lower case, no trailing dot, no port) or malformed, with why.
 */
export type HostReading = { name: string; port?: number } | { malformed: string };

/** Longer than any name, address and port together: refused before any other work. */
const MAX_HOST_TEXT = 300;
const MAX_NAME = 253;
const HOST_CHARACTERS = /^[a-z0-9.:[\]-]+$/;
const LABEL = /^[a-z0-9-]{1,63}$/;
/** A last label WHATWG URL reads as an IPv4 number (decimal, octal or 0x hex), not as a DNS label. */
const NUMERIC_LABEL = /^(\d+|0x[0-9a-f]*)$/;
/** Decimal 0–255 without leading zeros: "010" would be octal 8 to some parsers and ten to others. */
const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const PORT = /^\d{1,5}$/;
const IPV6_GROUP = /^[0-9a-f]{1,4}$/;

/**
 * Reads a Host / :authority value. Accepted: a DNS name of LDH labels, an
 * IPv4 dotted quad in its canonical decimal form, or a bracketed IPv6
 * literal; then an optional port in 1–65535. Anything a URL parser could
 * read as another host is malformed: userinfo, non-ASCII (IDNs arrive as
 * A-labels), whitespace, controls, "%", "/", "\", empty labels, IPv4 in
 * short, octal or hex forms, an empty or out-of-range port.
 */
export function readHost(text: string): HostReading {
  if (text === "") return malformed("host is empty");
  if (text.length > MAX_HOST_TEXT) return malformed("host is too long");
  const lower = text.toLowerCase();
  if (!HOST_CHARACTERS.test(lower)) {
    return malformed("host has a character other than ASCII letters, digits, -, ., : and [ ] (IDNs must be sent as A-labels)");
  }
  const ipv6 = lower.startsWith("[");
  const end = ipv6 ? lower.indexOf("]") + 1 : lower.includes(":") ? lower.indexOf(":") : lower.length;
  if (ipv6 && end === 0) return malformed("host has an unclosed [");
  const rest = lower.slice(end);
  if (rest !== "" && !rest.startsWith(":")) return malformed("host has text after its IPv6 literal");
  const port = rest === "" ? undefined : portOf(rest.slice(1));
  if (port === null) return malformed("host has a port that is not a number in 1-65535");
  const name = ipv6 ? ipv6Name(lower.slice(1, end - 1)) : dnsOrIpv4Name(lower.slice(0, end));
  if (name === undefined) {
    return malformed(ipv6 ? "host is not an IPv6 address" : "host is not a DNS name of 1-63 character labels or a dotted-quad IPv4 address");
  }
  return port === undefined ? { name } : { name, port };
}

function portOf(text: string): number | null {
  if (!PORT.test(text)) return null;
  const port = Number(text);
  return port >= 1 && port <= 65535 ? port : null;
}

function dnsOrIpv4Name(text: string): string | undefined {
  const name = text.endsWith(".") ? text.slice(0, -1) : text;
  if (name.length === 0 || name.length > MAX_NAME) return undefined;
  const labels = name.split(".");
  if (!labels.every((label) => LABEL.test(label))) return undefined;
  if (!NUMERIC_LABEL.test(labels[labels.length - 1]!)) return name;
  return labels.length === 4 && labels.every((label) => OCTET.test(label)) ? name : undefined;
}

/**
 * The text form WHATWG URL gives an IPv6 address (RFC 5952: lower-case hex
 * without leading zeros, the first longest run of two or more zero groups
 * as "::", an embedded IPv4 tail as two hex groups), so every spelling of
 * one address matches alike. A "::" that stands for no group at all, which
 * RFC 4291 forbids and WHATWG accepts, is refused.
 */
function ipv6Name(text: string): string | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = ipv6Pieces(halves[0]!, halves.length === 1);
  const tail = halves.length === 2 ? ipv6Pieces(halves[1]!, true) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const pieces = [...head, ...Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return `[${serializeIpv6(pieces)}]`;
}

/** The 16-bit pieces of one side of "::"; only the last group of the address may be a dotted quad. */
function ipv6Pieces(text: string, endsAddress: boolean): number[] | undefined {
  if (text === "") return [];
  const groups = text.split(":");
  const pieces: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (endsAddress && index === groups.length - 1 && group.includes(".")) {
      const octets = group.split(".");
      if (octets.length !== 4 || !octets.every((octet) => OCTET.test(octet))) return undefined;
      const [a, b, c, d] = octets.map(Number) as [number, number, number, number];
      pieces.push(a * 256 + b, c * 256 + d);
    } else if (IPV6_GROUP.test(group)) {
      pieces.push(parseInt(group, 16));
    } else {
      return undefined;
    }
  }
  return pieces;
}

function serializeIpv6(pieces: number[]): string {
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; start++) {
    let length = 0;
    while (start + length < 8 && pieces[start + length] === 0) length++;
    if (length > best.length) best = { start, length };
  }
  const hex = (from: number, to: number) => pieces.slice(from, to).map((piece) => piece.toString(16)).join(":");
  if (best.start === -1) return hex(0, 8);
  return `${hex(0, best.start)}::${hex(best.start + best.length, 8)}`;
}

function malformed(detail: string): HostReading {
  return { malformed: detail };
}
