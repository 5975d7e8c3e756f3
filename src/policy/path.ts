/** A request path as every decoder reads it, or why decoders could read it differently. */
export type PathReading = { path: string } | { problem: string };

// eslint-disable-next-line no-control-regex
const RAW_FORBIDDEN = /[\x00-\x20\x7f\\]/;
const MALFORMED_ESCAPE = /%(?![0-9a-f]{2})/i;
/** Decoded, these would cut, join or end segments differently upstream. */
const ENCODED_DELIMITER = /%(2f|5c|2e|00|3f|23)/i;
const UNRESERVED_ESCAPE = /%(3[0-9]|4[1-9a-f]|5[0-9a]|6[1-9a-f]|7[0-9a]|2d|5f|7e)/i;
/** Only these paths need decoding and normalizing; a plain ASCII path is read alike by everyone. */
const NEEDS_DECODING = /[%\u0080-\uffff]/;
const ESCAPE = /%[0-9a-f]{2}/i;
// eslint-disable-next-line no-control-regex
const DECODED_CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/** With the u flag, only a surrogate without its partner matches. */
const LONE_SURROGATE = /[\ud800-\udfff]/u;
/** What a character must not turn into under NFKC: the characters that delimit or climb segments. */
const NFKC_DELIMITER = /[./\\]/;
/**
 * Outside ASCII only letters, marks and digits. Lookalikes of / \ . that
 * NFKC leaves alone (U+2215 DIVISION SLASH, U+3002 IDEOGRAPHIC FULL STOP,
 * U+00A5 YEN SIGN, which Windows best-fit code pages turn into "\\") are
 * punctuation or symbols; invisible, private-use and unassigned code points
 * have no stable reading at all.
 */
const LETTER_MARK_DIGIT = /^[\p{L}\p{M}\p{N}]$/u;

/**
 * Reads a request path (or a path in a policy rule). A path is accepted only
 * if decoding it once, decoding it twice and NFKC-normalizing the decoded
 * text all give the same segments; that reading is the path rules match.
 * Everything else is refused rather than normalized: dot segments, encoded
 * `/` `\` `.` `?` `#` NUL, needlessly encoded letters, malformed or non-UTF-8
 * escapes (overlong forms, surrogates, stray bytes), double encoding, path
 * parameters, empty segments, control characters, characters NFKC
 * changes (fullwidth dots and solidus, one-dot leaders, ligatures, …) and,
 * outside ASCII, anything but letters, marks and digits.
 */
export function readPath(path: string): PathReading {
  if (!path.startsWith("/")) return refused("path must start with /");
  if (RAW_FORBIDDEN.test(path)) return refused("path has spaces, control characters or backslashes");
  if (MALFORMED_ESCAPE.test(path)) return refused("path has a malformed percent escape");
  if (ENCODED_DELIMITER.test(path)) return refused("path has an encoded slash, backslash, dot, ?, # or NUL");
  // Servlet containers and others drop ";params" from segments, so "/admin;x" would be "/admin" there.
  if (/;|%3b/i.test(path)) return refused("path has a ; (path parameters)");
  // An upstream decodes these to the plain character, so "/%61dmin" would be "/admin" there but not here.
  if (UNRESERVED_ESCAPE.test(path)) return refused("path has a percent-encoded letter, digit, -, _ or ~");
  const problem = segmentProblem(path);
  if (problem !== undefined) return refused(problem);
  if (!NEEDS_DECODING.test(path)) return { path };
  return decodedPath(path);
}

/**
 * Read on a path that starts with "/", without splitting it: a segment
 * before the last is empty exactly where "//" appears, and a segment is "."
 * or ".." exactly where one sits between two slashes or after the last.
 */
function segmentProblem(path: string): string | undefined {
  if (path.includes("//")) return "path has an empty segment";
  if (path.includes("/./") || path.includes("/../") || path.endsWith("/.") || path.endsWith("/..")) return "path has a dot segment";
  return undefined;
}

/** The slow path, for paths with escapes or non-ASCII characters. */
function decodedPath(path: string): PathReading {
  if (LONE_SURROGATE.test(path)) return refused("path has a lone surrogate");
  let decoded: string;
  try {
    // Strict UTF-8: overlong forms, surrogates, truncated sequences and stray bytes throw.
    decoded = decodeURIComponent(path);
  } catch {
    return refused("path has percent escapes that are not UTF-8 (overlong, surrogate, truncated or stray bytes)");
  }
  if (ESCAPE.test(decoded)) return refused("path is percent-encoded twice (%25 before two hex digits)");
  if (DECODED_CONTROL.test(decoded)) return refused("path has a control character, raw or encoded");
  const problem = characterProblem(decoded);
  if (problem !== undefined) return refused(problem);
  if (decoded.normalize("NFKC") !== decoded) {
    return refused("path is not NFKC-normalized (fullwidth letters, ligatures, decomposed accents, …)");
  }
  return { path: decoded };
}

/** The first non-ASCII character NFKC turns into a delimiter, or that is no letter, mark or digit. */
function characterProblem(decoded: string): string | undefined {
  for (const character of decoded) {
    if (character.charCodeAt(0) < 0x80) continue;
    const codePoint = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
    const normalized = character.normalize("NFKC");
    if (NFKC_DELIMITER.test(normalized)) return `path has ${codePoint}, which NFKC reads as ${JSON.stringify(normalized)}`;
    if (!LETTER_MARK_DIGIT.test(character)) return `path has ${codePoint}, which is no letter, mark or digit`;
  }
  return undefined;
}

function refused(problem: string): PathReading {
  return { problem };
}
