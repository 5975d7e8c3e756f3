import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { grantsScope } from "../../src/policy/scopes.js";

describe("grantsScope", () => {
  it.each<[string[], string, boolean]>([
    [["kafka:read"], "kafka:read", true],
    [["kafka:read", "kafka:write"], "kafka:write", true],
    [["*"], "kafka:read", true],
    [["*"], "anything:at:all", true],
    [["kafka:read"], "kafka:write", false],
    [["kafka:read"], "kafka", false],
    [["kafka"], "kafka:read", false],
    [["kafka:*"], "kafka:read", false],
    [["Kafka:Read"], "kafka:read", false],
    [["kafka:read "], "kafka:read", false],
    [[], "kafka:read", false],
    [[], "", false],
    [["*"], "", false],
    [[""], "", false],
    [["kafka:read"], "", false],
  ])("granted %j, required %j: %s", (granted, required, expected) => {
    expect(grantsScope(granted, required)).toBe(expected);
  });

  it("never lets an empty requirement pass, whatever is granted", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), (granted) => {
        expect(grantsScope(granted, "")).toBe(false);
      }),
    );
  });

  it("grants a non-empty scope exactly when it or * is granted", () => {
    fc.assert(
      fc.property(fc.array(fc.string()), fc.string({ minLength: 1 }), (granted, required) => {
        expect(grantsScope(granted, required)).toBe(granted.includes("*") || granted.includes(required));
      }),
    );
  });
});
