import { describe, expect, it } from "vitest";
import type { Verification } from "../../src/credentials/credential-verifier.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import type { DecisionRequest } from "../../src/decision/decision.js";
import { InvalidArgumentError } from "../../src/errors.js";
import { Policy, type PolicyConfig } from "../../src/policy/policy.js";
import { fakeVerifier, identity } from "./fakes.js";

const ADMIN_JWT = identity({
  tokenId: "jwt:idp:1",
  subject: "jwt:idp:alice",
  credentialType: "jwt",
  issuerAlias: "idp",
  scopes: ["orders:read"],
  claims: { sub: "alice", groups: ["admins", "ops"], level: 3, org: { name: "acme" } },
});
const USER_JWT = identity({ ...ADMIN_JWT, tokenId: "jwt:idp:2", subject: "jwt:idp:bob", claims: { sub: "bob", groups: ["users"], level: 1 } });
const OPAQUE = identity({ tokenId: "tok_opaque", scopes: ["orders:read"], libraries: ["lib-a"] });
const OWNED = identity({ tokenId: "tok_owned", scopes: ["orders:read"], owner: "alice" });

const CREDENTIALS: Record<string, () => Verification> = {
  admin: () => ({ identity: ADMIN_JWT }),
  user: () => ({ identity: USER_JWT }),
  opaque: () => ({ identity: OPAQUE }),
  owned: () => ({ identity: OWNED }),
};

/** One rule with `when` before a catch-all that allows nothing, so a false condition shows as the fall-through. */
function engineWith(when: string, extra: Partial<PolicyConfig> = {}) {
  const verifier = fakeVerifier(CREDENTIALS);
  const policy = new Policy({
    rules: [
      { name: "guarded", path_prefix: "/orders", scope: "orders:read", when },
      { name: "fallback", path_prefix: "/", scope: "nobody:has-this" },
    ],
    ...extra,
  });
  return { engine: new DecisionEngine(policy, verifier.authenticator), asked: verifier.asked };
}

function ask(engine: DecisionEngine, bearer: string, extra: Partial<DecisionRequest> = {}) {
  return engine.decide({ authorization: bearer === "" ? "" : `Bearer ${bearer}`, resource: "GET /orders/1", ...extra });
}

describe("a rule with a when condition", () => {
  it.each<[string, string, string, Partial<DecisionRequest>, boolean]>([
    ["a group in the claims", "'admins' in claims.groups", "admin", {}, true],
    ["a group missing from the claims", "'admins' in claims.groups", "user", {}, false],
    ["a claim compared as a number", "claims.level >= 2", "admin", {}, true],
    ["a nested claim", "claims.org.name == 'acme'", "admin", {}, true],
    ["has() on a claim an opaque token lacks", "has(claims.groups) && 'admins' in claims.groups", "opaque", {}, false],
    ["a macro over the claims", "claims.groups.exists(g, g.startsWith('op'))", "admin", {}, true],
    ["the host's suffix", "request.host.endsWith('.internal')", "opaque", { host: "orders.internal" }, true],
    ["the host's suffix, another host", "request.host.endsWith('.internal')", "opaque", { host: "orders.example.com" }, false],
    ["the method and path", "request.method == 'GET' && request.path.startsWith('/orders/')", "opaque", {}, true],
    ["a request header", "request.headers['x-env'] == 'prod'", "opaque", { headers: new Map([["X-Env", "prod"]]) }, true],
    ["a header Authorize never has", "'x-env' in request.headers", "opaque", {}, false],
    ["the source address", "request.source_address.startsWith('10.')", "opaque", { sourceAddress: "10.1.2.3" }, true],
    ["the owner", "principal.owner == 'alice'", "owned", {}, true],
    ["the owner of a credential without one", "principal.owner == 'alice'", "opaque", {}, false],
    ["the principal's scopes and libraries", "'orders:read' in principal.scopes && principal.libraries == ['lib-a']", "opaque", {}, true],
    ["the credential type and issuer", "principal.credential_type == 'jwt' && principal.issuer == 'idp'", "admin", {}, true],
    ["the subject", "principal.subject == 'jwt:idp:alice'", "admin", {}, true],
    ["an error absorbed by ||", "claims.missing == 1 || true", "opaque", {}, true],
  ])("reads %s: applies only where it is true, else the next rule decides", async (_case, when, bearer, extra, holds) => {
    const { engine } = engineWith(when);
    const decision = await ask(engine, bearer, extra);
    expect(decision).toMatchObject(holds ? { allowed: true, reason: "ok", rule: "guarded" } : { allowed: false, reason: "insufficient_scope", rule: "fallback" });
  });

  it.each<[string, string, string]>([
    ["a claim an opaque token does not have", "'admins' in claims.groups", "opaque"],
    ["a division by zero", "1 / (size(claims.groups) - 2) == 1", "admin"],
    ["a dyn claim of the wrong type", "claims.sub > 3", "admin"],
    ["a claim that is not a bool where the result is read", "claims.sub", "admin"],
    ["a missing header", "request.headers['x-env'] == 'prod'", "opaque"],
    ["an error on the right of && after true", "true && claims.nothing == 'x'", "admin"],
  ])("denies condition_error on %s, naming the rule, and never tries a later rule", async (_case, when, bearer) => {
    const verifier = fakeVerifier(CREDENTIALS);
    const policy = new Policy({
      rules: [
        { name: "guarded", path_prefix: "/orders", scope: "orders:read", when },
        { name: "open", path_prefix: "/", public: true },
      ],
    });
    const decision = await new DecisionEngine(policy, verifier.authenticator).decide({ authorization: `Bearer ${bearer}`, resource: "GET /orders/1" });
    expect(decision).toMatchObject({ allowed: false, denial: "forbidden", reason: "condition_error", rule: "guarded" });
  });

  it("lets a deny rule with a condition restrict what a later rule allows", async () => {
    const policy = new Policy({
      rules: [
        { name: "admins-only", path_prefix: "/orders/admin", scope: "orders:admin", when: "!('admins' in claims.groups)" },
        { name: "orders", path_prefix: "/orders", scope: "orders:read" },
      ],
    });
    const engine = new DecisionEngine(policy, fakeVerifier(CREDENTIALS).authenticator);
    const resource = "GET /orders/admin/x";
    expect(await ask(engine, "user", { resource })).toMatchObject({ allowed: false, reason: "insufficient_scope", rule: "admins-only" });
    expect(await ask(engine, "admin", { resource })).toMatchObject({ allowed: true, rule: "orders" });
  });

  it("verifies the credential once when a condition reads it before the scope check", async () => {
    const { engine, asked } = engineWith("principal.subject != ''");
    expect(await ask(engine, "opaque")).toMatchObject({ allowed: true, rule: "guarded" });
    expect(asked).toEqual(["opaque"]);
  });

  it("denies unauthenticated at the rule whose condition reads the principal, even where a later rule is public", async () => {
    const policy = new Policy({
      rules: [
        { name: "guarded", path_prefix: "/orders", scope: "orders:read", when: "'admins' in claims.groups" },
        { name: "open", path_prefix: "/", public: true },
      ],
    });
    const engine = new DecisionEngine(policy, fakeVerifier(CREDENTIALS).authenticator);
    expect(await ask(engine, "")).toMatchObject({ allowed: false, denial: "unauthenticated", reason: "missing_credential", rule: "guarded" });
    expect(await ask(engine, "nobody")).toMatchObject({ allowed: false, denial: "unauthenticated", reason: "unknown_token", rule: "guarded" });
  });

  it("decides a public rule's request-only condition without any credential", async () => {
    const { engine, asked } = engineWith("true", {
      rules: [
        { name: "internal-health", path: "/health", public: true, when: "request.host.endsWith('.internal')" },
        { name: "health", path: "/health", scope: "health:read" },
      ],
    });
    expect(await ask(engine, "", { resource: "GET /health", host: "a.internal" })).toMatchObject({ allowed: true, reason: "public_resource", rule: "internal-health" });
    expect(await ask(engine, "", { resource: "GET /health", host: "a.example.com" })).toMatchObject({ allowed: false, reason: "missing_credential", rule: "health" });
    expect(asked).toEqual([]);
  });

  it("refuses a malformed host where a condition reads the host, and lets one that does not read it decide", async () => {
    const reads = engineWith("request.host.endsWith('.internal')").engine;
    expect(await ask(reads, "opaque", { host: "a..internal" })).toMatchObject({ allowed: false, reason: "bad_host", rule: "guarded" });
    const ignores = engineWith("request.method == 'GET'").engine;
    expect(await ask(ignores, "opaque", { host: "a..internal" })).toMatchObject({ allowed: true, rule: "guarded" });
  });

  it("applies to a rule named by the request only where it holds; otherwise no rule covers the request", async () => {
    const { engine } = engineWith("request.headers['x-env'] == 'prod'");
    const named = { ruleName: "guarded" };
    expect(await ask(engine, "opaque", { ...named, headers: new Map([["x-env", "prod"]]) })).toMatchObject({ allowed: true, rule: "guarded" });
    expect(await ask(engine, "opaque", { ...named, headers: new Map([["x-env", "dev"]]) })).toMatchObject({ allowed: false, reason: "no_policy" });
    expect(await ask(engine, "opaque", named)).toMatchObject({ allowed: false, reason: "condition_error", rule: "guarded" });
  });

  it("never shows the Authorization header or pseudo-headers to a condition", async () => {
    const { engine } = engineWith("!('authorization' in request.headers) && !(':path' in request.headers) && 'x-a' in request.headers");
    const headers = new Map([["authorization", "Bearer opaque"], [":path", "/other"], ["x-a", "1"]]);
    expect(await ask(engine, "opaque", { headers })).toMatchObject({ allowed: true, rule: "guarded" });
  });

  it("reads a tool and its host from a tool resource", async () => {
    const policy = new Policy({ rules: [{ name: "tools", tool: "*", scope: "orders:read", when: "request.tool == 'search' && request.host == 'mcp.internal' && request.path == ''" }] });
    const engine = new DecisionEngine(policy, fakeVerifier(CREDENTIALS).authenticator);
    expect(await ask(engine, "opaque", { resource: "tool:search", host: "mcp.internal" })).toMatchObject({ allowed: true, rule: "tools" });
    expect(await ask(engine, "opaque", { resource: "tool:fetch", host: "mcp.internal" })).toMatchObject({ allowed: false, reason: "no_policy" });
  });
});

describe("a when condition at load", () => {
  const refusal = (when: string, rule: Record<string, unknown> = { path: "/a", scope: "x" }) => {
    try {
      new Policy({ rules: [{ path: "/b", scope: "y" }, { ...rule, when }] });
    } catch (error) {
      if (error instanceof InvalidArgumentError) return error;
      throw error;
    }
    throw new Error(`accepted ${when}`);
  };

  it.each<[string, string, RegExp]>([
    ["a syntax error", "request.host ==", /does not parse/],
    ["an undeclared variable", "user.name == 'x'", /undeclared reference to 'user'/],
    ["a misspelt request field", "request.hostname == 'x'", /request has no field 'hostname'/],
    ["a comparison of a list with a string", "principal.scopes == 'admin'", /cannot compare list\(string\) with string/],
    ["an unknown function", "request.path.lowerAscii() == 'x'", /unknown function 'lowerAscii'/],
    ["a result that is not a bool", "request.host + '.x'", /gives string, not bool/],
    ["arithmetic on strings and numbers", "request.host + 1 == 'x'", /'\+' does not apply to string and int/],
    ["indexing a record", "request['host'] == 'x'", /cannot index request/],
    ["an empty condition", "  ", /must not be empty/],
    ["message construction", "google.protobuf.Int64Value{value: 1} == 1", /undeclared reference|message construction/],
  ])("refuses %s with the rule's path", (_case, when, message) => {
    const error = refusal(when);
    expect(error.field).toBe("policy.rules[1].when");
    expect(error.message).toMatch(message);
  });

  it("refuses a public rule whose condition reads the principal or claims", () => {
    expect(refusal("'a' in claims.groups", { path: "/a", public: true }).message).toMatch(/a public rule's condition may read only request/);
    expect(refusal("principal.owner == 'a'", { path: "/a", public: true }).field).toBe("policy.rules[1].when");
  });

  it.each<[string, string, RegExp]>([
    ["longer than the length bound", `request.path == '${"a".repeat(2100)}'`, /longer than 2048 characters/],
    ["larger than the node bound", Array.from({ length: 70 }, () => "1 == 1").join(" || "), /larger than 200 nodes/],
    ["deeper than the depth bound", `${Array.from({ length: 30 }, () => "1").join(" + ")} > 0`, /nests deeper than 24/],
    ["with nested macros", "claims.a.all(x, claims.b.exists(y, x == y))", /nests macros/],
    ["with more than three macros", Array.from({ length: 4 }, () => "claims.a.exists(x, x == 'a')").join(" || "), /more than 3 macros/],
    ["with map, whose cost grows with the square of the list", "claims.a.map(x, x).size() == 0", /map and filter are not supported/],
    ["with filter", "claims.a.filter(x, x == 'a').size() == 0", /map and filter are not supported/],
    ["iterating a computed list", "(claims.a + claims.a + claims.a).exists(x, x == 'a')", /may iterate only a variable's list or map/],
    ["compiling a pattern per element", "claims.a.all(x, x.matches('^a'))", /matches inside a macro/],
    ["with more than four patterns", Array.from({ length: 5 }, (_, i) => `request.path.matches('^/${i}')`).join(" || "), /matches more than 4 times/],
  ])("refuses a condition %s, which would leave its evaluation cost unbounded", (_case, when, message) => {
    const error = refusal(when);
    expect(error.field).toBe("policy.rules[1].when");
    expect(error.message).toMatch(message);
  });
});
