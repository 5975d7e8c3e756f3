import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readPath } from "../../src/policy/path.js";

/** Every code point NFKC turns into text holding ".", "/" or "\": computed, not listed. */
function nfkcDelimiterLookalikes(): string[] {
  const found: string[] = [];
  for (let codePoint = 0x80; codePoint <= 0x10ffff; codePoint++) {
    if (codePoint >= 0xd800 && codePoint <= 0xdfff) continue;
    const character = String.fromCodePoint(codePoint);
    if (/[./\\]/.test(character.normalize("NFKC"))) found.push(character);
  }
  return found;
}

const percentEncoded = (text: string) => [...Buffer.from(text, "utf8")].map((byte) => `%${byte.toString(16).toUpperCase()}`).join("");

/** A lenient second decoder, as a double-decoding upstream runs it: valid escapes decoded, the rest kept. */
function decodeLeniently(text: string): string {
  return text.replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

describe("readPath", () => {
  it.each([
    ["/api/kafka/topics", "/api/kafka/topics"],
    ["/", "/"],
    ["/api/kafka/", "/api/kafka/"],
    ["/a/.well-known/x..y/...", "/a/.well-known/x..y/..."],
    ["/files/caf%C3%A9", "/files/café"],
    ["/files/caf%c3%a9", "/files/café"],
    ["/files/café", "/files/café"],
    ["/files/a%20b", "/files/a b"],
    ["/files/100%25", "/files/100%"],
    ["/files/100%25x", "/files/100%x"],
    ["/%E6%97%A5%E6%9C%AC/%F0%90%80%80x", "/日本/\u{10000}x"],
  ])("reads %j as %j", (path, reading) => {
    expect(readPath(path)).toEqual({ path: reading });
  });

  it.each([
    ["double-encoded dots", ["/public/%252e%252e/admin", "/public/%252E%252E/admin", "/public/%252e./admin", "/public/%25%32%65%25%32%65/admin", "/public/%25c0%25ae"]],
    ["double-encoded slashes", ["/public/..%252fadmin", "/public%252F..%252Fadmin", "/public/%255c..%255cadmin"]],
    ["overlong UTF-8", ["/public/%c0%ae%c0%ae/admin", "/public/..%c0%af../admin", "/public/%e0%80%ae%e0%80%ae/admin", "/public/%e0%80%af", "/public/%f0%80%80%af", "/public/%c1%9c"]],
    ["bytes that are no UTF-8", ["/public/%ff", "/public/%FE%FF", "/public/%80", "/public/%c3", "/public/%e2%82", "/public/x%c3x"]],
    ["encoded surrogates and code points past U+10FFFF", ["/public/%ed%a0%80", "/public/%ED%BF%BF", "/public/%f4%90%80%80"]],
    ["fullwidth dots", ["/public/．．/admin", "/public/%EF%BC%8E%EF%BC%8E/admin", "/public/%ef%bc%8e./admin", "/public/.．/admin"]],
    ["one- and two-dot leaders and an ellipsis", ["/public/\u2024\u2024/admin", "/public/%E2%80%A4%E2%80%A4/admin", "/public/\u2025/admin", "/public/%E2%80%A5/admin", "/public/\u2026"]],
    ["small full stops", ["/public/\ufe52\ufe52/admin", "/public/%EF%B9%92%EF%B9%92/admin"]],
    ["fullwidth solidus and reverse solidus", ["/public/..\uff0fadmin", "/public/..%EF%BC%8Fadmin", "/public/..\uff3cadmin", "/public/..%EF%BC%BCadmin", "/public/..\ufe68admin"]],
    ["division and fraction slashes", ["/public/..\u2215admin", "/public/..%E2%88%95admin", "/public/..\u2044admin", "/public/..\u29f8admin"]],
    ["ideographic full stops", ["/public/\u3002\u3002/admin", "/public/%E3%80%82/admin", "/public/\uff61"]],
    ["a yen sign (a backslash in Japanese code pages)", ["/public/..\u00a5admin", "/public/..%C2%A5admin"]],
    ["fullwidth letters and ligatures", ["/\uff41dmin", "/%EF%BD%81dmin", "/\ufb01les", "/a\u00b2"]],
    ["decomposed accents", ["/files/cafe\u0301", "/files/cafe%CC%81"]],
    ["invisible characters", ["/ad\u200dmin", "/ad%E2%80%8Dmin", "/ad\u00admin", "/ad%C2%ADmin", "/a\u202eb", "/a\ufeffb"]],
    ["non-ASCII spaces", ["/admin\u00a0", "/admin%C2%A0", "/admin\u3000", "/a\u1680b"]],
    ["encoded control characters", ["/admin%09", "/admin%0a", "/admin%7f", "/admin%C2%85"]],
    ["encoded ? and #", ["/admin%3f.json", "/admin%3F", "/admin%23x"]],
    ["private-use and unassigned code points", ["/a\ue000", "/a%EE%80%80", "/a\u0378"]],
    ["a lone surrogate", ["/a\ud800", "/a\udc00b"]],
  ])("refuses %s however spelt", (_class, paths) => {
    for (const path of paths) expect([path, readPath(path)]).toEqual([path, { problem: expect.any(String) }]);
  });

  it("refuses every code point whose NFKC form holds . / or \\, raw and percent-encoded", () => {
    const lookalikes = nfkcDelimiterLookalikes();
    // U+2024 ONE DOT LEADER, U+FF0F FULLWIDTH SOLIDUS, U+FF3C FULLWIDTH REVERSE SOLIDUS, U+FE52 SMALL FULL STOP, …
    expect(lookalikes).toEqual(expect.arrayContaining(["\u2024", "\u2025", "\u2026", "\uff0e", "\uff0f", "\uff3c", "\ufe52", "\ufe68"]));
    for (const character of lookalikes) {
      for (const path of [`/public/${character}/admin`, `/public/a${character}b`, `/public/${percentEncoded(character)}`]) {
        expect([path, readPath(path)]).toEqual([path, { problem: expect.stringMatching(/NFKC reads as/) }]);
      }
    }
  });

  const piece = fc.constantFrom(
    "a", "admin", "public", ".", "..", "%2e", "%25", "%252e", "%25%32%65", "%c0%ae", "%c0%af", "%e0%80%ae", "%ff", "%C3%A9", "é",
    "\uff0e", "%EF%BC%8E", "\u2024", "\u2025", "\uff0f", "\u2215", "\ufe52", "\u3002", "\u200d", "\u00ad", "e\u0301", "%20", "%3f", ";", "%",
  );
  const dangerousPath = fc.array(fc.array(piece, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }).map(
    (segments) => `/${segments.map((segment) => segment.join("")).join("/")}`,
  );

  it("accepts only paths that decoding once, decoding twice, NFKC and WHATWG URL all read alike", () => {
    let accepted = 0;
    fc.assert(
      fc.property(dangerousPath, (path) => {
        const reading = readPath(path);
        if (!("path" in reading)) return;
        accepted++;
        const once = decodeURIComponent(path);
        const readings = [once, decodeLeniently(once), once.normalize("NFKC"), decodeURIComponent(new URL(`http://h${path}`).pathname)];
        for (const other of readings) expect(other.split("/")).toEqual(reading.path.split("/"));
        expect(reading.path.split("/").filter((segment) => segment === "." || segment === "..")).toEqual([]);
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(50);
  });
});
