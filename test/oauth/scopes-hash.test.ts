import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { scopesHash } from "../../src/oauth/scopes-hash.js";

describe("the canonical scopes hash", () => {
  it.each([
    [["openid", "profile"], "e06d77376803ad66ce2f60db77f612061837ca694e408c52e9896012e07dd930"],
    [["openid"], "a780fc8d532ce48dc62ac7d2027bf9b07f036b7f5ec1824a882d89c35d183887"],
    [["openid", "profile", "email"], "62358d8fc3cf5a7913083c82c1153191119dbcba28970bc42426bed8ade52918"],
    [[], "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
  ])("matches ToolHive's value for %j", (scopes, expected) => {
    expect(scopesHash(scopes)).toBe(expected);
  });

  it("ignores order and duplicates", () => {
    expect(scopesHash(["profile", "openid", "openid"])).toBe(scopesHash(["openid", "profile"]));
  });

  it("keeps ab+c apart from a+bc", () => {
    expect(scopesHash(["ab", "c"])).not.toBe(scopesHash(["a", "bc"]));
  });

  it("keeps case and surrounding spaces", () => {
    expect(scopesHash(["OpenID"])).not.toBe(scopesHash(["openid"]));
    expect(scopesHash([" openid"])).not.toBe(scopesHash(["openid"]));
  });

  it("sorts by UTF-8 bytes as Go does, not by UTF-16 code units", () => {
    // UTF-8 puts U+FF5E (EF BD 9E) before U+1F600 (F0 9F 98 80); UTF-16 puts U+1F600 (D83D ...) first.
    const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
    expect(scopesHash(["\u{1f600}", "\uff5e"])).toBe(sha256("\uff5e\n\u{1f600}"));
    expect(scopesHash(["\u{1f600}", "\uff5e"])).not.toBe(sha256("\u{1f600}\n\uff5e"));
  });
});
