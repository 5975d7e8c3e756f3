import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { readHost } from "../../src/policy/host.js";

/** The hostname WHATWG URL reads, without the root label's trailing dot; undefined where it refuses. */
function whatwgHostname(host: string): string | undefined {
  try {
    return new URL(`http://${host}/`).hostname.replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

describe("readHost", () => {
  it.each([
    ["admin.example.com", "admin.example.com", undefined],
    ["Admin.Example.COM", "admin.example.com", undefined],
    ["admin.example.com.", "admin.example.com", undefined],
    ["admin.example.com:8443", "admin.example.com", 8443],
    ["admin.example.com.:443", "admin.example.com", 443],
    ["localhost:1", "localhost", 1],
    ["xn--bcher-kva.example", "xn--bcher-kva.example", undefined],
    ["a-b.c-d.example:65535", "a-b.c-d.example", 65535],
    [`${"a".repeat(63)}.example`, `${"a".repeat(63)}.example`, undefined],
    ["0x7f.example.com", "0x7f.example.com", undefined],
    ["127.0.0.1", "127.0.0.1", undefined],
    ["127.0.0.1.", "127.0.0.1", undefined],
    ["10.0.0.255:80", "10.0.0.255", 80],
    ["[::1]", "[::1]", undefined],
    ["[::1]:8443", "[::1]", 8443],
    ["[0:0:0:0:0:0:0:1]", "[::1]", undefined],
    ["[2001:DB8:0000:0:1:0:0:1]", "[2001:db8::1:0:0:1]", undefined],
    ["[1:0:0:2:0:0:0:3]", "[1:0:0:2::3]", undefined],
    ["[::]", "[::]", undefined],
    ["[1::]", "[1::]", undefined],
    ["[::ffff:127.0.0.1]", "[::ffff:7f00:1]", undefined],
  ])("reads %j as %j (port %j)", (text, name, port) => {
    expect(readHost(text)).toEqual(port === undefined ? { name } : { name, port });
    // The canonical reading is WHATWG URL's own, so a plain host matches alike whoever reads it.
    expect(whatwgHostname(text)).toBe(name);
  });

  it.each([
    ["empty", ""],
    ["an empty port", "admin.example.com:"],
    ["userinfo", "evil@admin.example.com"],
    ["userinfo with a password", "u:p@admin.example.com"],
    ["a fullwidth letter", "ａdmin.example.com"],
    ["ideographic full stops", "admin。example。com"],
    ["fullwidth full stops", "admin．example．com"],
    ["halfwidth ideographic full stops", "admin｡example｡com"],
    ["a trailing space", "admin.example.com "],
    ["a leading space", " admin.example.com"],
    ["a NUL", "admin.example.com\u0000"],
    ["a tab", "admin.example.com\t"],
    ["a percent-encoded letter", "%61dmin.example.com"],
    ["a percent-encoded dot", "admin%2eexample.com"],
    ["a backslash", "admin.example.com\\x"],
    ["a slash", "admin.example.com/x"],
    ["a question mark", "admin.example.com?x"],
    ["a hash", "admin.example.com#x"],
    ["a zero-width joiner", "ad\u200dmin.example.com"],
    ["a soft hyphen", "ad\u00admin.example.com"],
    ["a non-ASCII IDN", "bücher.example"],
    ["port 0", "admin.example.com:0"],
    ["port 65536", "admin.example.com:65536"],
    ["a six-digit port", "admin.example.com:000443"],
    ["a non-numeric port", "admin.example.com:https"],
    ["a signed port", "admin.example.com:+443"],
    ["two ports", "admin.example.com:443:443"],
    ["an empty label", "admin..example.com"],
    ["a leading dot", ".admin.example.com"],
    ["two trailing dots", "admin.example.com.."],
    ["a label over 63 characters", `${"a".repeat(64)}.example.com`],
    ["a name over 253 characters", `${"abcdefghi.".repeat(25)}example`],
    ["an underscore", "admin_x.example.com"],
    ["a short IPv4 form", "127.1"],
    ["a one-number IPv4", "2130706433"],
    ["a hex IPv4 part", "0x7f.0.0.1"],
    ["an octal IPv4 part", "0177.0.0.1"],
    ["a leading zero in IPv4", "127.0.0.01"],
    ["an IPv4 part over 255", "127.0.0.256"],
    ["five IPv4 parts", "1.2.3.4.5"],
    ["a name ending in a number", "admin.example.123"],
    ["a name ending in a hex number", "admin.example.0x1f"],
    ["an unbracketed IPv6", "::1"],
    ["an unclosed bracket", "[::1"],
    ["an IPv6 zone", "[fe80::1%25eth0]"],
    ["a :: standing for no group", "[1:2:3:4::5:6:7:8]"],
    ["two ::", "[1::2::3]"],
    ["nine IPv6 groups", "[1:2:3:4:5:6:7:8:9]"],
    ["a five-digit IPv6 group", "[00001::]"],
    ["an IPv4 tail with a leading zero", "[::ffff:127.0.0.01]"],
    ["an IPv4 group before the end", "[1.2.3.4::]"],
    ["text after the IPv6 literal", "[::1]x"],
    ["an empty IPv6 port", "[::1]:"],
  ])("refuses %s (%j)", (_case, text) => {
    expect(readHost(text)).toEqual({ malformed: expect.any(String) });
  });

  const dangerous = fc.constantFrom(
    ..."adminexamplcom0123456789-.:[]@%/\\?# \t\u0000xfAE".split(""),
    "\uff41",
    "\u3002",
    "\uff0e",
    "\uff61",
    "\u200d",
    "\u00ad",
    "0x",
    "::",
    "admin",
    ".example.com",
  );
  const ipv6Part = fc.constantFrom("::", ":", "0", "00", "1", "ffff", "FFFF", "0db8", "12345", "127.0.0.1", "1.2.3.04", "%25", "]", ".");
  const hostText = fc.oneof(
    fc.array(dangerous, { maxLength: 12 }).map((parts) => parts.join("")),
    fc
      .tuple(fc.array(ipv6Part, { maxLength: 10 }), fc.constantFrom("", ":", ":80", ":0"))
      .map(([parts, port]) => `[${parts.join("")}]${port}`),
  );

  it("accepts only hosts WHATWG URL reads as the same name", () => {
    fc.assert(
      fc.property(hostText, (text) => {
        const reading = readHost(text);
        if ("name" in reading) expect(whatwgHostname(text)).toBe(reading.name);
      }),
      { numRuns: 5000 },
    );
  });

  it("gives every spelling of an IPv6 address the text WHATWG URL gives it", () => {
    const piece = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
    const spelt = fc.tuple(piece, fc.nat(3), fc.boolean()).map(([value, pad, upper]) => {
      const hex = value.toString(16).padStart(Math.min(4, value.toString(16).length + pad), "0");
      return upper ? hex.toUpperCase() : hex;
    });
    fc.assert(
      fc.property(fc.array(spelt, { minLength: 8, maxLength: 8 }), (groups) => {
        const text = `[${groups.join(":")}]`;
        expect(readHost(text)).toEqual({ name: whatwgHostname(text) });
      }),
      { numRuns: 2000 },
    );
  });

  it("folds case, drops one trailing dot and ignores the port, and nothing else", () => {
    const label = fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,10}[a-zA-Z]$/);
    fc.assert(
      fc.property(fc.array(label, { minLength: 1, maxLength: 4 }), fc.boolean(), fc.option(fc.integer({ min: 1, max: 65535 })), (labels, dot, port) => {
        const name = labels.join(".");
        const text = `${name}${dot ? "." : ""}${port === null ? "" : `:${port}`}`;
        expect(readHost(text)).toEqual(port === null ? { name: name.toLowerCase() } : { name: name.toLowerCase(), port });
      }),
    );
  });
});
