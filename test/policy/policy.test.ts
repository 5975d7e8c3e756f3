import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import { Policy, type PolicyConfig } from "../../src/policy/policy.js";
import { parseResource, type Resource } from "../../src/policy/resource.js";

function resource(text: string, host?: string | string[]): Resource {
  const parsed = parseResource(text, host);
  if ("reason" in parsed) throw new Error(`test resource ${text} does not parse: ${parsed.detail}`);
  return parsed.resource;
}

const policy = new Policy({
  rules: [
    { name: "health", resource: "GET /health", public: true },
    { name: "health-tool", resource: "tool:get_health", public: true },
    { name: "kafka-admin", path_prefix: "/api/kafka/admin", scope: "kafka:admin" },
    { name: "kafka-read", path_prefix: "/api/kafka", methods: ["get", "HEAD"], scope: "kafka:read" },
    { name: "kafka-write", path_prefix: "/api/kafka/", methods: ["POST", "DELETE"], scope: "kafka:write" },
    { name: "exact", path: "/api/status", scope: "status:read" },
    { name: "internal", path_prefix: "/internal", host: "Admin.Example.com", scope: "internal" },
    { name: "search", tool: "search", scope: "tools:search" },
    { name: "tools", tool: "*", scope: "tools:use" },
    { name: "everything-else", path_prefix: "/", methods: ["OPTIONS"], scope: "preflight" },
  ],
});

describe("Policy.requirementFor", () => {
  it.each([
    ["GET /health", undefined, "health", true],
    ["tool:get_health", undefined, "health-tool", true],
    ["GET /api/kafka", undefined, "kafka-read", false],
    ["GET /api/kafka/", undefined, "kafka-read", false],
    ["HEAD /api/kafka/topics/a", undefined, "kafka-read", false],
    ["POST /api/kafka/topics", undefined, "kafka-write", false],
    ["POST /api/kafka", undefined, "kafka-write", false],
    ["GET /api/kafka/admin", undefined, "kafka-admin", false],
    ["GET /api/kafka/admin/users", undefined, "kafka-admin", false],
    ["GET /api/kafka/administrator", undefined, "kafka-read", false],
    ["GET /api/status", undefined, "exact", false],
    ["DELETE /api/status", undefined, "exact", false],
    ["GET /internal/metrics", "admin.example.com", "internal", false],
    ["GET /internal/metrics", "ADMIN.example.com:443", "internal", false],
    ["tool:search", undefined, "search", false],
    ["tool:summarize", undefined, "tools", false],
    ["OPTIONS /anything/at/all", undefined, "everything-else", false],
  ])("matches %s (host %s) to the first rule that covers it: %s", (text, host, ruleName, isPublic) => {
    expect(policy.requirementFor(resource(text, host))).toMatchObject({ ruleName, public: isPublic });
  });

  it.each([
    ["POST /health", undefined],
    ["GET /healthz", undefined],
    ["GET /api/kafkax", undefined],
    ["PUT /api/kafka/topics", undefined],
    ["GET /api/status/extra", undefined],
    ["GET /api", undefined],
    ["GET /internal/metrics", "evil.example.com"],
    ["GET /internalx", "admin.example.com"],
  ])("covers nothing for %s (host %s)", (text, host) => {
    expect(policy.requirementFor(resource(text, host))).toBeUndefined();
  });

  it("refuses a request without a host where a rule that names a host would otherwise match", () => {
    expect(policy.requirementFor(resource("GET /internal/metrics"))).toEqual({ refusal: "host_required" });
    expect(policy.requirementFor(resource("GET /internal/metrics", "admin.example.com."))).toMatchObject({ ruleName: "internal" });
  });

  it.each(["evil@admin.example.com", "admin.example.com:", "\uff41dmin.example.com", "admin\u3002example.com", "admin.example.com ", "127.1"])(
    "refuses a malformed host (%j) where a rule that names a host would otherwise match",
    (host) => {
      expect(policy.requirementFor(resource("GET /internal/metrics", host))).toEqual({ refusal: "bad_host" });
    },
  );

  it("never consults the host where no rule that names one would match", () => {
    expect(policy.requirementFor(resource("GET /api/kafka/topics", "evil@admin.example.com"))).toMatchObject({ ruleName: "kafka-read" });
    expect(policy.requirementFor(resource("GET /internalx", "admin.example.com:"))).toBeUndefined();
  });

  it("refuses Envoy-style host spellings that disagree, and reads agreeing ones as one host", () => {
    expect(policy.requirementFor(resource("GET /internal/metrics", ["admin.example.com", "evil.example.com"]))).toEqual({ refusal: "bad_host" });
    expect(policy.requirementFor(resource("GET /internal/metrics", ["", "admin.example.com"]))).toEqual({ refusal: "bad_host" });
    expect(policy.requirementFor(resource("GET /internal/metrics", ["admin.example.com", "admin.example.com"]))).toMatchObject({ ruleName: "internal" });
    expect(policy.requirementFor(resource("GET /internal/metrics", [""]))).toEqual({ refusal: "host_required" });
  });

  it("matches rule paths and request paths on their decoded reading", () => {
    const decoded = new Policy({ rules: [{ path_prefix: "/files/café", scope: "files" }, { path_prefix: "/", public: true }] });
    for (const path of ["/files/café/x", "/files/caf%C3%A9/x", "/files/caf%c3%a9"]) {
      expect(decoded.requirementFor(resource(`GET ${path}`))).toMatchObject({ scope: "files" });
    }
    const encoded = new Policy({ rules: [{ path: "/files/caf%c3%a9", scope: "files" }] });
    expect(encoded.requirementFor(resource("GET /files/café"))).toMatchObject({ scope: "files" });
  });

  it("lets an exact path rule cover the same path with a trailing slash", () => {
    expect(policy.requirementFor(resource("GET /api/status/"))).toMatchObject({ ruleName: "exact" });
    expect(new Policy({ rules: [{ resource: "GET /admin", scope: "admin" }] }).requirementFor(resource("GET /admin/"))).toMatchObject({
      scope: "admin",
    });
  });

  it("falls back to default_scope only for resources no rule covers", () => {
    const withDefault = new Policy({ rules: [{ resource: "GET /health", public: true }], default_scope: "api:read" });
    expect(withDefault.requirementFor(resource("GET /other"))).toEqual({
      ruleName: "default",
      public: false,
      scope: "api:read",
      singleUse: false,
    });
    expect(withDefault.requirementFor(resource("tool:x"))).toMatchObject({ ruleName: "default", scope: "api:read" });
    expect(withDefault.requirementFor(resource("GET /health"))).toMatchObject({ public: true });
  });

  it("names unnamed rules by position and finds rules by name", () => {
    const unnamed = new Policy({ rules: [{ tool: "a", scope: "x" }, { tool: "b", scope: "y", single_use: true }] });
    expect(unnamed.requirementFor(resource("tool:b"))).toMatchObject({ ruleName: "rule-1", singleUse: true });
    expect(unnamed.ruleNamed("rule-0")).toMatchObject({ scope: "x" });
    expect(policy.ruleNamed("kafka-write")).toMatchObject({ scope: "kafka:write" });
    expect(policy.ruleNamed("missing")).toBeUndefined();
  });

  it("covers nothing at all when there are no rules and no default", () => {
    expect(new Policy({}).requirementFor(resource("GET /"))).toBeUndefined();
  });
});

describe("Policy configuration checks", () => {
  it.each<[string, unknown, string]>([
    ["a rule without a matcher", { rules: [{ scope: "a" }] }, "policy.rules[0]"],
    ["a rule with two matchers", { rules: [{ path: "/a", tool: "b", scope: "a" }] }, "policy.rules[0]"],
    ["a non-public rule without a scope", { rules: [{ path: "/a" }] }, "policy.rules[0].scope"],
    ["a blank scope", { rules: [{ path: "/a", scope: "  " }] }, "policy.rules[0].scope"],
    ["a path without a leading slash", { rules: [{ path: "a", scope: "a" }] }, "policy.rules[0].path"],
    ["a prefix with a dot segment", { rules: [{ path_prefix: "/a/../b", scope: "a" }] }, "policy.rules[0].path_prefix"],
    ["a prefix with an empty segment", { rules: [{ path_prefix: "/a//b", scope: "a" }] }, "policy.rules[0].path_prefix"],
    ["an unparseable resource", { rules: [{ resource: "GET a", scope: "a" }] }, "policy.rules[0].resource"],
    ["an empty tool", { rules: [{ tool: "", scope: "a" }] }, "policy.rules[0].tool"],
    ["methods on a tool rule", { rules: [{ tool: "a", methods: ["GET"], scope: "a" }] }, "policy.rules[0].methods"],
    ["a host on a resource rule", { rules: [{ resource: "GET /a", host: "x", scope: "a" }] }, "policy.rules[0].host"],
    ["an empty methods list", { rules: [{ path: "/a", methods: [], scope: "a" }] }, "policy.rules[0].methods"],
    ["a method that is no token", { rules: [{ path: "/a", methods: ["GE T"], scope: "a" }] }, "policy.rules[0].methods"],
    ["an empty host", { rules: [{ path: "/a", host: "", scope: "a" }] }, "policy.rules[0].host"],
    ["a host with a port", { rules: [{ path: "/a", host: "admin.example.com:8443", scope: "a" }] }, "policy.rules[0].host"],
    ["a host with userinfo", { rules: [{ path: "/a", host: "u@admin.example.com", scope: "a" }] }, "policy.rules[0].host"],
    ["a non-ASCII host", { rules: [{ path: "/a", host: "bücher.example", scope: "a" }] }, "policy.rules[0].host"],
    ["a host with an empty label", { rules: [{ path: "/a", host: "admin..example.com", scope: "a" }] }, "policy.rules[0].host"],
    ["a short IPv4 host", { rules: [{ path: "/a", host: "10.1", scope: "a" }] }, "policy.rules[0].host"],
    ["a double-encoded path", { rules: [{ path: "/a/%252e", scope: "a" }] }, "policy.rules[0].path"],
    ["a prefix with a fullwidth dot", { rules: [{ path_prefix: "/a/\uff0e\uff0e", scope: "a" }] }, "policy.rules[0].path_prefix"],
    ["a tool with a percent escape", { rules: [{ tool: "a%20b", scope: "a" }] }, "policy.rules[0].tool"],
    ["a tool with spaces", { rules: [{ tool: "a b", scope: "a" }] }, "policy.rules[0].tool"],
    ["a rule name used twice", { rules: [{ name: "x", tool: "a", scope: "a" }, { name: "x", tool: "b", scope: "b" }] }, "policy.rules"],
    ["an empty default scope", { default_scope: "" }, "policy.default_scope"],
    ["a misspelt rule key", { rules: [{ path: "/a", method: ["GET"], scope: "a" }] }, "policy.rules[0].method"],
    ["a misspelt policy key", { rule: [] }, "policy.rule"],
    ["a public rule with a scope", { rules: [{ path: "/a", public: true, scope: "a" }] }, "policy.rules[0].scope"],
    ["rules that are no list", { rules: { path: "/a" } }, "policy.rules"],
    ["a rule that is no mapping", { rules: ["GET /a"] }, "policy.rules[0]"],
    ["a path that is no string", { rules: [{ path_prefix: 5, scope: "a" }] }, "policy.rules[0].path_prefix"],
    ["public that is no boolean", { rules: [{ path: "/a", public: "yes" }] }, "policy.rules[0].public"],
    ["methods that are no list", { rules: [{ path: "/a", methods: "GET", scope: "a" }] }, "policy.rules[0].methods"],
    ["a policy that is no mapping", "rules: []", "policy"],
  ])("refuses %s, naming the field", (_case, config, field) => {
    let thrown: unknown;
    try {
      new Policy(config as PolicyConfig);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidArgumentError);
    expect((thrown as InvalidArgumentError).field).toBe(field);
  });
});
