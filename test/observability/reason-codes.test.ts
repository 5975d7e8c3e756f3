import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REASON_CODES } from "../../src/model/reason-codes.js";

/** The rows of README's reason-code table: code and decision. */
function documentedReasons(): [string, string][] {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf("### Reason codes"));
  return [...section.matchAll(/^\| `([a-z_]+)` \| (ALLOW|DENY) \|/gm)].map(([, code, decision]) => [code!, decision!.toLowerCase()]);
}

describe("the closed list of reason codes metrics label with", () => {
  it("holds every reason code README documents, with the same decision", () => {
    const documented = documentedReasons();
    expect(documented.length).toBeGreaterThan(10);
    for (const [code, decision] of documented) {
      expect([code, REASON_CODES[code as keyof typeof REASON_CODES]]).toEqual([code, decision]);
    }
  });
});
