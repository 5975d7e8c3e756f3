import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { countingDrops, maskCredentials } from "../../src/log.js";
import { captureLog } from "../support/captured-log.js";

const OPAQUE = "pcl_Vb7pQ1xZ3kR8mN2wT5yU9iO0aS4dF6gH8jK1lZ3xC5v";
const ROOT = "config-root-token-0123456789abcdefghijklmnopqrstuv";
const JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJlLWJ5dGVz";

describe("maskCredentials", () => {
  it.each([
    ["an Authorization value", `header was Bearer ${ROOT}`, "header was Bearer [redacted]"],
    ["a lower-case scheme", `bearer ${ROOT}`, "bearer [redacted]"],
    ["an opaque secret on its own", `token ${OPAQUE} rejected`, "token pcl_[redacted] rejected"],
    ["an opaque secret in capitals", `token ${OPAQUE.toUpperCase()} rejected`, "token pcl_[redacted] rejected"],
    ["a JWT in capitals", `{"msg":"bad ${JWT.toUpperCase()}"}`, '{"msg":"bad [redacted-jwt]"}'],
    ["a URL's user and password in capitals", '{"msg":"REDIS://APP:S3CRET@REDIS:6379"}', '{"msg":"REDIS://[redacted]@REDIS:6379"}'],
    ["a JWT on its own", `{"msg":"bad ${JWT}"}`, '{"msg":"bad [redacted-jwt]"}'],
    [
      "the user and password of a URL",
      '{"msg":"cannot reach redis://app:s3cret@redis:6379/0"}',
      '{"msg":"cannot reach redis://[redacted]@redis:6379/0"}',
    ],
    ["a URL's user alone", '{"url":"https://deploy-key@git.example/x"}', '{"url":"https://[redacted]@git.example/x"}'],
    ["a password with symbols", "http://u:p%40ss:w!rd@host/", "http://[redacted]@host/"],
  ])("masks %s", (_case, line, masked) => {
    expect(maskCredentials(line)).toBe(masked);
  });

  it.each([
    ["a token id", '{"tokenId":"tok_xpLtwcstKXbXaYkQociGWu"}'],
    ["prose that mentions a bearer token", '{"msg":"bearer token missing"}'],
    ["a file path", '{"path":"/var/lib/portcullis/root.token"}'],
    ["a URL without credentials whose path or query holds an @", '{"url":"https://idp.example/users/@me?mail=a@b.example"}'],
    ["an e-mail address", '{"subject":"alice@example.com"}'],
  ])("leaves %s alone", (_case, line) => {
    expect(maskCredentials(line)).toBe(line);
  });
});

describe("the service logger", () => {
  it("never writes a credential quoted in an error's message, stack or properties", () => {
    const captured = captureLog();
    const error = Object.assign(new Error(`upstream refused Bearer ${ROOT}`), { header: `Bearer ${OPAQUE}`, jwt: JWT });
    captured.log.error({ err: error }, "unexpected error in handler");
    captured.log.warn({ authorization: `Bearer ${ROOT}`, nested: { token: OPAQUE } }, "redacted fields");

    const text = captured.text();
    for (const secret of [ROOT, OPAQUE, JWT]) expect(text).not.toContain(secret);
    expect(captured.entries()[0]).toMatchObject({ msg: "unexpected error in handler", err: { message: "upstream refused Bearer [redacted]" } });
  });

  it("leaves out the command a Redis client error carries, whose arguments may hold secrets", () => {
    const captured = captureLog();
    const secret = "client-secret-in-a-redis-argument";
    const error = Object.assign(new Error("OOM command not allowed"), { command: { name: "set", args: ["key", `{"client_secret":"${secret}"}`] } });
    captured.log.warn({ err: error }, "redis unavailable");

    expect(captured.text()).not.toContain(secret);
    expect(captured.entries()[0]).toMatchObject({ err: { message: "OOM command not allowed", command: "[redacted]" } });
  });
});

/** Takes lines until told it is full, then drops each one as sonic-boom does past its backlog. */
class FillingDestination extends EventEmitter {
  readonly taken: string[] = [];
  full = false;
  write(line: string): boolean {
    if (this.full) this.emit("drop", line);
    else this.taken.push(line);
    return !this.full;
  }
}

describe("the bounded stdout destination", () => {
  it("says how many lines it dropped in a warning before the next line it takes", () => {
    const stdout = new FillingDestination();
    const log = countingDrops(stdout);
    log.write("first\n");
    stdout.full = true;
    for (let line = 0; line < 5; line++) log.write(`lost ${line}\n`);
    stdout.full = false;
    log.write("after\n");
    log.write("later\n");
    expect(stdout.taken[0]).toBe("first\n");
    expect(JSON.parse(stdout.taken[1]!)).toMatchObject({ level: 40, droppedLines: 5, msg: "log: lines dropped, stdout did not keep up" });
    expect(stdout.taken.slice(2)).toEqual(["after\n", "later\n"]);
  });

  it("keeps counting when the warning itself is dropped, so that the next warning covers every lost line", () => {
    const stdout = new FillingDestination();
    const log = countingDrops(stdout);
    stdout.full = true;
    log.write("lost\n");
    log.write("lost too\n");
    stdout.full = false;
    log.write("back\n");
    expect(JSON.parse(stdout.taken[0]!)).toMatchObject({ droppedLines: 2 });
    expect(stdout.taken[1]).toBe("back\n");
  });
});
