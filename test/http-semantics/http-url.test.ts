import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import { checkedUri, httpUrl } from "../../src/http-semantics/http-url.js";

describe("the one URL check every caller-given URL passes", () => {
  it.each([
    ["an https URL", "https://idp.example.com/a?b=c", true, true],
    ["an http URL", "http://10.0.0.1:8080/a", true, true],
    ["a native app's redirect URI", "com.example.app:/oauth/callback", false, true],
    ["an ftp URL", "ftp://files.example.com/a", false, true],
    ["a relative path", "/relative", false, false],
    ["a fragment", "https://a.example/x#y", false, false],
    ["an empty fragment", "https://a.example/x#", false, false],
    ["a space", "https://a.example/x y", false, false],
    ["a quote", 'https://a.example/x"y', false, false],
    ["a backslash", "https://a.example\\x", false, false],
    ["a control character", "https://a.example/x\ty", false, false],
    ["more than 2 KiB", `https://a.example/${"x".repeat(2048)}`, false, false],
  ])("takes %s as http(s) URL: %s, as URI: %s", (_name, value, asHttp, asUri) => {
    expect([accepts(() => httpUrl("f", value)), accepts(() => checkedUri("f", value))]).toEqual([asHttp, asUri]);
  });

  it("names the field and never echoes the value", () => {
    const value = "https://user:hunter2@a.example/x y";
    for (const check of [httpUrl, checkedUri]) {
      const error = catching(() => check("resolution.token_endpoint", value));
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect([(error as InvalidArgumentError).field, (error as Error).message.includes("hunter2")]).toEqual(["resolution.token_endpoint", false]);
    }
  });

  it("asks for a value that is missing", () => {
    expect((catching(() => httpUrl("resource", "")) as Error).message).toBe("resource: is required");
  });
});

function catching(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

function accepts(run: () => unknown): boolean {
  return catching(run) === undefined;
}
