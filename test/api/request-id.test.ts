import { describe, expect, it } from "vitest";
import { requestIdOf } from "../../src/api/request-id.js";

describe("a request id", () => {
  it("is the caller's when short and plain, and a fresh UUID otherwise", () => {
    expect(requestIdOf("0f8fad5b-d9cb-469f-a165-70867728950e")).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(requestIdOf("trace:abc.1_2")).toBe("trace:abc.1_2");
    for (const bad of [undefined, "", "a b", "x".repeat(129), "line\nbreak", ["a", "b"], "pcl_secret+/="]) {
      expect(requestIdOf(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });
});
