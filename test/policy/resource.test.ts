import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseResource, type Resource } from "../../src/policy/resource.js";

describe("parseResource", () => {
  it.each<[string, string | undefined, Resource]>([
    ["GET /api/kafka/topics", undefined, { kind: "http", method: "GET", path: "/api/kafka/topics" }],
    ["get /api", undefined, { kind: "http", method: "GET", path: "/api" }],
    ["POST /", undefined, { kind: "http", method: "POST", path: "/" }],
    ["GET /api/kafka/", undefined, { kind: "http", method: "GET", path: "/api/kafka/" }],
    ["GET /search?q=a/../b#frag", undefined, { kind: "http", method: "GET", path: "/search" }],
    ["GET /files/a%20b/%C3%A9t%C3%A9", undefined, { kind: "http", method: "GET", path: "/files/a b/été" }],
    ["GET /files/%c3%a9t%c3%a9", undefined, { kind: "http", method: "GET", path: "/files/été" }],
    ["GET /files/été/100%25", undefined, { kind: "http", method: "GET", path: "/files/été/100%" }],
    ["GET /a/.well-known/x..y/...", undefined, { kind: "http", method: "GET", path: "/a/.well-known/x..y/..." }],
    ["GET /api", "API.Example.com:8443", { kind: "http", method: "GET", path: "/api", host: { name: "api.example.com", port: 8443 } }],
    ["GET /api", "api.example.com.", { kind: "http", method: "GET", path: "/api", host: { name: "api.example.com" } }],
    ["GET /api", "evil@api.example.com", { kind: "http", method: "GET", path: "/api", host: { malformed: expect.stringContaining("character") } }],
    ["GET /api", "", { kind: "http", method: "GET", path: "/api" }],
    ["tool:search", undefined, { kind: "tool", name: "search" }],
    // Read for rule conditions (request.host); host rules never match tools.
    ["tool:get_health", "mcp.example.com", { kind: "tool", name: "get_health", host: { name: "mcp.example.com" } }],
    ["tool:ns/tool.v2", undefined, { kind: "tool", name: "ns/tool.v2" }],
  ])("parses %j (host %j)", (text, host, expected) => {
    expect(parseResource(text, host)).toEqual({ resource: expected });
  });

  it.each([
    ["", "expected"],
    ["GET", "expected"],
    ["/api/x", "expected"],
    ["G3T /api", "method"],
    ["GET  /api", "must start with /"],
    ["GET api/x", "must start with /"],
    ["GET /api/x HTTP/1.1", "spaces"],
    ["GET /api\t/x", "spaces"],
    ["GET /api/\u0000x", "control"],
    ["GET /api\\..\\admin", "backslashes"],
    ["GET /admin;jsessionid=x", "path parameters"],
    ["GET /internal;a/secret", "path parameters"],
    ["GET /admin%3bx", "path parameters"],
    ["GET /api/../admin", "dot segment"],
    ["GET /api/./admin", "dot segment"],
    ["GET /api/..", "dot segment"],
    ["GET /..", "dot segment"],
    ["GET /api/%2e%2e/admin", "encoded"],
    ["GET /api/%2E./admin", "encoded"],
    ["GET /api%2fadmin", "encoded"],
    ["GET /api%2Fadmin", "encoded"],
    ["GET /api%5cadmin", "encoded"],
    ["GET /api/x%00", "encoded"],
    ["GET /%61dmin", "percent-encoded letter"],
    ["GET /api/%4B", "percent-encoded letter"],
    ["GET /api/v%31", "percent-encoded letter"],
    ["GET /api/a%7eb", "percent-encoded letter"],
    ["GET /api/%", "malformed percent"],
    ["GET /api/%zz", "malformed percent"],
    ["GET /api/%2", "malformed percent"],
    ["GET /api//admin", "empty segment"],
    ["GET //admin", "empty segment"],
    ["tool:%61dmin", "percent escape"],
    ["tool:ns/../admin", "dot segment"],
    ["tool:..", "dot segment"],
    ["GET /public/%252e%252e/admin", "twice"],
    ["GET /public/..%c0%af../admin", "not UTF-8"],
    ["GET /public/%EF%BC%8E%EF%BC%8E/admin", "NFKC"],
    ["tool:", "tool name"],
    ["tool:two words", "tool name"],
    ["tool:x\u0000", "tool name"],
    [`tool:${"t".repeat(257)}`, "tool name"],
    [`GET /${"a".repeat(9000)}`, "too long"],
  ])("refuses %j", (text, detail) => {
    const parsed = parseResource(text);
    expect(parsed).toMatchObject({ reason: "bad_resource" });
    expect("detail" in parsed && parsed.detail).toContain(detail);
  });

  const segment = fc.stringMatching(/^[A-Za-z0-9._~-]{1,12}$/);
  const dotSegment = fc.constantFrom(".", "..", "%2e", "%2E%2e", ".%2e", "%2e.");

  it("never parses a path that holds a dot segment, however it is spelt", () => {
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 4 }), dotSegment, fc.array(segment, { maxLength: 4 }), (before, dot, after) => {
        const path = `/${[...before, dot, ...after].join("/")}`;
        expect(parseResource(`GET ${path}`)).toMatchObject({ reason: "bad_resource" });
      }),
    );
  });

  it("keeps every path it accepts exactly as written, up to the query", () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 6 }), fc.string(), (segments, query) => {
        fc.pre(segments.every((part) => part !== "." && part !== ".."));
        const path = `/${segments.join("/")}`;
        expect(parseResource(`GET ${path}?${query}`)).toEqual({ resource: { kind: "http", method: "GET", path } });
      }),
    );
  });

  it("answers any string with a resource or bad_resource, never an exception", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 64 }), fc.option(fc.string()), (text, host) => {
        const parsed = parseResource(text, host ?? undefined);
        expect("resource" in parsed || parsed.reason === "bad_resource").toBe(true);
      }),
    );
  });
});
