import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseTokenFile } from "../../src/credentials/token-file.js";

const A = "tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const B = "tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBB";

describe("parseTokenFile", () => {
  it.each([
    ["a bare token, granting every scope", A, { secret: A, scopes: ["*"] }],
    ["a token with one scope", `${A}\tkafka:read`, { secret: A, scopes: ["kafka:read"] }],
    ["a token with scopes, spaces around commas", `${A}\tkafka:read, reports:read`, { secret: A, scopes: ["kafka:read", "reports:read"] }],
    ["a token with a name", `${A}\tkafka:read\tnightly export`, { secret: A, scopes: ["kafka:read"], name: "nightly export" }],
    ["a token with an empty name", `${A}\tkafka:read\t`, { secret: A, scopes: ["kafka:read"] }],
    [
      "a token with an ISO 8601 creation time",
      `${A}\tkafka:read\tx\t2024-01-02T03:04:05Z`,
      { secret: A, scopes: ["kafka:read"], name: "x", createdAt: Date.UTC(2024, 0, 2, 3, 4, 5) },
    ],
    ["a token with a creation date", `${A}\ta\tx\t2024-01-02`, { secret: A, scopes: ["a"], name: "x", createdAt: Date.UTC(2024, 0, 2) }],
    ["a token with Unix seconds", `${A}\ta\tx\t1700000000`, { secret: A, scopes: ["a"], name: "x", createdAt: 1_700_000_000_000 }],
    ["a token with a Windows line ending", `${A}\tkafka:read\r`, { secret: A, scopes: ["kafka:read"] }],
  ])("reads %s", (_case, text, entry) => {
    expect(parseTokenFile(text)).toEqual({ entries: [{ line: 1, ...entry }], problems: [] });
  });

  it.each([
    ["a short token", "abc123", "shorter than 16"],
    ["a token with a leading space", ` ${A}`, "surrounding spaces"],
    ["a token with a trailing space", `${A} \tkafka:read`, "surrounding spaces"],
    ["a token outside the bearer alphabet", `${A}"quoted"`, "alphabet"],
    ["a token with an inner space", `${A} ${B}`, "alphabet"],
    ["an empty token before a tab", "\tkafka:read", "empty"],
    ["an empty scope field", `${A}\t`, "scopes"],
    ["an empty scope in a list", `${A}\tkafka:read,,b`, "scopes"],
    ["a scope with a space", `${A}\tkafka read`, "scopes"],
    ["an unreadable creation time", `${A}\ta\tx\tyesterday`, "createdAt"],
    ["an impossible date", `${A}\ta\tx\t2024-13-45`, "createdAt"],
    ["five fields", `${A}\ta\tx\t1700000000\textra`, "at most 4"],
  ])("reports %s as a problem without repeating the line", (_case, text, message) => {
    const { entries, problems } = parseTokenFile(text);
    expect(entries).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.line).toBe(1);
    expect(problems[0]!.message).toContain(message);
    for (const part of text.split(/[\t ,"]/).filter((piece) => piece.length >= 6)) expect(problems[0]!.message).not.toContain(part);
  });

  it("numbers lines from one across comments, blank lines and problems, and reports repeated tokens", () => {
    const text = ["# header", "", A, "   ", "  # indented comment", "short", `${B}\tx`, `${A}\ty`, "#"].join("\n");
    const { entries, problems } = parseTokenFile(text);
    expect(entries).toEqual([
      { line: 3, secret: A, scopes: ["*"] },
      { line: 7, secret: B, scopes: ["x"] },
    ]);
    expect(problems).toEqual([
      { line: 6, message: "token is shorter than 16 characters" },
      { line: 8, message: "token repeats an earlier line" },
    ]);
  });

  it("reads an empty file as no tokens", () => {
    expect(parseTokenFile("")).toEqual({ entries: [], problems: [] });
  });

  it("never echoes a line in a problem, whatever the line holds", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9]{20,40}$/), fc.string({ maxLength: 30 }), (secret, rest) => {
        const { problems } = parseTokenFile(`${secret}${rest}`);
        for (const problem of problems) expect(problem.message).not.toContain(secret);
      }),
    );
  });
});
