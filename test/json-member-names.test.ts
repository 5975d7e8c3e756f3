import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hasDuplicateMemberNames } from "../src/json-member-names.js";

/** A JSON document as written: objects are lists of members, so a name may come twice. */
type Written = { array: Written[] } | { members: [string, Written][] } | { scalar: string | number | boolean | null };

const NAMES = fc.oneof(fc.constantFrom("a", "alg", "sub", "exp", "\u00e9", "\"", "\\", "a\nb", "\ud83d\ude00", ""), fc.string({ maxLength: 4 }));

const written = fc.letrec<{ value: Written }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.oneof(fc.string(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), fc.constant(null)).map((scalar) => ({ scalar })),
    fc.array(tie("value"), { maxLength: 4 }).map((array) => ({ array })),
    fc.array(fc.tuple(NAMES, tie("value")), { maxLength: 5 }).map((members) => ({ members })),
  ),
}));

/** Each character of a string either as JSON.stringify writes it or as a `\u` escape, as the flags say. */
function spelled(text: string, escapes: () => boolean): string {
  let out = '"';
  for (const char of text.split("")) out += escapes() ? `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}` : JSON.stringify(char).slice(1, -1);
  return `${out}"`;
}

function serialize(value: Written, escapes: () => boolean, space: string): string {
  if ("scalar" in value) return typeof value.scalar === "string" ? spelled(value.scalar, escapes) : JSON.stringify(value.scalar);
  if ("array" in value) return `[${space}${value.array.map((item) => serialize(item, escapes, space)).join(`,${space}`)}${space}]`;
  const members = value.members.map(([name, member]) => `${spelled(name, escapes)}${space}:${space}${serialize(member, escapes, space)}`);
  return `{${space}${members.join(`,${space}`)}${space}}`;
}

function writtenTwice(value: Written): boolean {
  if ("scalar" in value) return false;
  if ("array" in value) return value.array.some(writtenTwice);
  const names = value.members.map(([name]) => name);
  return new Set(names).size !== names.length || value.members.some(([, member]) => writtenTwice(member));
}

describe("hasDuplicateMemberNames", () => {
  it.each<[string, boolean]>([
    ['{"alg":"RS256","alg":"none"}', true],
    ['{"a":1,"\\u0061":2}', true],
    ['{"sub":"x","claims":{"sub":"y"}}', false],
    ['{"claims":{"role":"a","role":"b"}}', true],
    ['[{"a":1},{"a":1}]', false],
    ['{"a":"\\"a\\",\\"a\\"","b":1}', false],
    ['{"a":{"b":1},"c":[{"d":2,"d":3}]}', true],
    ['{"\\ud83d\\ude00":1,"😀":2}', true],
    ['{"x":"y"}', false],
    ["{}", false],
    ['{ "a" : [ 1 , { } ] , "b" : { "a" : 1 } }', false],
  ])("%s: %s", (text, expected) => {
    expect(JSON.parse(text)).toBeDefined();
    expect(hasDuplicateMemberNames(text)).toBe(expected);
  });

  it("finds no duplicate in whatever JSON.stringify writes", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(hasDuplicateMemberNames(JSON.stringify(value))).toBe(false);
        expect(hasDuplicateMemberNames(JSON.stringify(value, null, 2))).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it("says a document names a member twice exactly when some object does, however its names are escaped", () => {
    fc.assert(
      fc.property(written.value, fc.infiniteStream(fc.boolean()), fc.constantFrom("", " ", "\n\t"), (value, flags, space) => {
        const iterator = flags[Symbol.iterator]();
        const text = serialize(value, () => iterator.next().value as boolean, space);
        expect(() => JSON.parse(text)).not.toThrow();
        expect(hasDuplicateMemberNames(text)).toBe(writtenTwice(value));
      }),
      { numRuns: 1000 },
    );
  });

  it("reads a deeply nested document in one pass, without recursion", () => {
    const depth = 100_000;
    const text = `${'{"a":['.repeat(depth)}1${"]}".repeat(depth)}`;
    expect(hasDuplicateMemberNames(text)).toBe(false);
    expect(hasDuplicateMemberNames(`${'{"a":['.repeat(depth)}{"z":1,"\\u007a":2}${"]}".repeat(depth)}`)).toBe(true);
  });
});
