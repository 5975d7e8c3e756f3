/**
 * RFC 8259 §4 leaves duplicate member names to the parser: `JSON.parse`
 * keeps the last, other parsers keep the first or refuse. A document with
 * one reads two ways, so what Portcullis trusts (a JWT's header and
 * payload, an IdP's JWKS and discovery document) is refused when it has one.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;

const ESCAPED: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/** The names seen so far in one open object, or undefined for an open array. */
type Frame = { names: Set<string>; expectName: boolean } | undefined;

/**
 * True when some object in `text` names a member twice, compared after
 * escapes are decoded (`"a"` and `"\u0061"` are one name), at any depth.
 * `text` must be JSON that `JSON.parse` accepted: the scan reads its
 * structure and does not validate it again. One pass, no recursion: the
 * work is linear in the length of the text, however deep it nests.
 */
export function hasDuplicateMemberNames(text: string): boolean {
  const stack: Frame[] = [];
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code === QUOTE) {
      const end = stringEnd(text, index);
      const top = stack.at(-1);
      if (top?.expectName === true) {
        const name = decodeString(text.slice(index + 1, end));
        if (top.names.has(name)) return true;
        top.names.add(name);
        top.expectName = false;
      }
      index = end + 1;
      continue;
    }
    if (code === OPEN_OBJECT) stack.push({ names: new Set(), expectName: true });
    else if (code === OPEN_ARRAY) stack.push(undefined);
    else if (code === CLOSE_OBJECT || code === CLOSE_ARRAY) stack.pop();
    else if (code === COMMA) {
      const top = stack.at(-1);
      if (top !== undefined) top.expectName = true;
    }
    index++;
  }
  return false;
}

/** The index of the quote that closes the string opened at `start`. */
function stringEnd(text: string, start: number): number {
  let index = start + 1;
  while (text.charCodeAt(index) !== QUOTE) index += text.charCodeAt(index) === BACKSLASH ? 2 : 1;
  return index;
}

/** A string's content with its escapes decoded, as JSON.parse reads it (a `\u` escape is one UTF-16 unit). */
function decodeString(raw: string): string {
  if (!raw.includes("\\")) return raw;
  let decoded = "";
  let index = 0;
  while (index < raw.length) {
    const backslash = raw.indexOf("\\", index);
    if (backslash === -1) return decoded + raw.slice(index);
    decoded += raw.slice(index, backslash);
    const escape = raw[backslash + 1]!;
    if (escape === "u") {
      decoded += String.fromCharCode(Number.parseInt(raw.slice(backslash + 2, backslash + 6), 16));
      index = backslash + 6;
    } else {
      decoded += ESCAPED[escape]!;
      index = backslash + 2;
    }
  }
  return decoded;
}
