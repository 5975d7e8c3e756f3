import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { REASON_CODES } from "../../src/model/reason-codes.js";
import { bearer, createClients, type Clients } from "../support/clients.js";
import { configFileWriter } from "../support/config-files.js";
import { createEnvoyClient, type EnvoyClient, type HttpAttributes } from "../support/envoy-client.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { authorizeVerdict, checkVerdict, echoedInputs, isAllow, leakedCredentials, type AuthorizeInput, type Verdict } from "./bad-input-harness.js";
import { isServing, probe } from "./replica-probes.js";
import { recordRow, variant } from "./rows.js";

/** src/observability/decision-recorder.ts cuts logged request input here. */
const LOGGED_INPUT_LENGTH = 256;
const PROPERTY_RUNS = variant() === "long" ? 2000 : 120;
const INTERNAL_HOST = "internal.example.com";

/**
 * A policy where slipping past a rule is visible: the last rule lets the
 * reader in everywhere, so any spelling of a host, path or tool that escapes
 * the stricter rule above it would be an ALLOW.
 */
const POLICY = {
  rules: [
    { name: "health", path: "/health", public: true },
    { name: "internal", host: INTERNAL_HOST, path_prefix: "/", scope: "internal:admin" },
    { name: "admin-area", path_prefix: "/admin", scope: "admin" },
    { name: "tool-search", tool: "search", scope: "tools:search" },
    { name: "tools", tool: "*", scope: "tools:use" },
    { name: "everything", path_prefix: "/", scope: "kafka:read" },
  ],
};

interface InputCase {
  name: string;
  /** Sent through Authorize … */
  authorize?: AuthorizeInput;
  /** … and through Check. */
  check?: HttpAttributes;
  /** The verdict both must give. */
  expected: Verdict;
}

describe("bearer shapes, hosts, paths, tools and context extensions through Authorize and Check", () => {
  const writeConfig = configFileWriter();
  let server: PortcullisProcess;
  let clients: Clients;
  let envoy: EnvoyClient;
  let reader: string;
  let revoked: string;
  const sent: string[] = [];

  beforeAll(async () => {
    const root = `pcl_root_${randomBytes(24).toString("hex")}`;
    const config = writeConfig(stringify({ policy: POLICY, envoy: { realm: "example" } }));
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: config, PORTCULLIS_ROOT_TOKENS: root, PORTCULLIS_LOG_LEVEL: "info" } });
    clients = createClients(server.url);
    envoy = createEnvoyClient(server.url);
    const asRoot = bearer(root);
    reader = (await clients.admin.mintToken({ scopes: ["kafka:read", "tools:use"], allowedTools: ["lookup"], name: "reader" }, asRoot)).token;
    const doomed = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "doomed" }, asRoot);
    await clients.admin.revokeToken({ tokenId: doomed.record!.tokenId }, asRoot);
    revoked = doomed.token;
  });
  afterAll(async () => {
    envoy?.close();
    await server?.stop();
  });

  /** The same question through both transports: an Authorize resource and a Check request. */
  function both(name: string, authorization: string, method: string, path: string, host: string, expected: Verdict): InputCase {
    return {
      name,
      authorize: { authorization, resource: `${method} ${path}`, host },
      check: { method, path, host, headers: { authorization } },
      expected,
    };
  }

  function cases(): InputCase[] {
    const asReader = `Bearer ${reader}`;
    const api = (name: string, authorization: string, expected: Verdict) => both(name, authorization, "GET", "/api/data", "api.example.com", expected);
    const onInternal = (host: string, expected: Verdict = "deny:insufficient_scope") => both(`host ${JSON.stringify(host)}`, asReader, "GET", "/data", host, expected);
    const onPath = (path: string, expected: Verdict) => both(`path ${JSON.stringify(path)}`, asReader, "GET", path, "api.example.com", expected);
    const tool = (name: string, expected: Verdict): InputCase => ({
      name: `tool ${JSON.stringify(name)}`,
      authorize: { authorization: asReader, resource: `tool:${name}` },
      check: { method: "POST", path: "/mcp", headers: { authorization: asReader }, contextExtensions: { tool: name } },
      expected,
    });
    const extensions = (name: string, contextExtensions: Record<string, string>, expected: Verdict): InputCase => ({
      name: `context extensions ${name}`,
      check: { method: "GET", path: "/api/data", headers: { authorization: asReader }, contextExtensions },
      expected,
    });
    // Non-canonical paths (dot segments, empty segments, needless escapes, matrix parameters) are refused outright
    // (bad_resource) rather than normalised: the upstream might read them another way (docs/hosts-and-paths.md).
    return [
      api("no Authorization", "", "deny:missing_credential"),
      api("the scheme alone", "Bearer", "deny:missing_credential"),
      api("the scheme and a space", "Bearer ", "deny:missing_credential"),
      api("Basic credentials", "Basic dXNlcjpwYXNz", "deny:unsupported_scheme"),
      api("a Digest header", 'Digest username="a", response="b"', "deny:unsupported_scheme"),
      api("two tokens", `Bearer ${reader} Bearer ${reader}`, "deny:malformed_credential"),
      api("two Authorization values joined by a comma", `Bearer ${reader}, Bearer ${reader}`, "deny:malformed_credential"),
      api("a token followed by a NUL", `Bearer ${reader}\u0000`, "deny:malformed_credential"),
      api("a token followed by CRLF and a header", `Bearer ${reader}\r\nX-Injected: 1`, "deny:malformed_credential"),
      api("a token with a character outside base64url", `Bearer ${reader.slice(0, -1)}!`, "deny:malformed_credential"),
      api("a token with one character changed", `Bearer ${reader.slice(0, -1)}${reader.endsWith("A") ? "B" : "A"}`, "deny:unknown_token"),
      api("the prefix alone", "Bearer pcl_", "deny:unknown_token"),
      api("a revoked token", `Bearer ${revoked}`, "deny:token_revoked"),
      api("a token of 9,000 characters", `Bearer pcl_${"A".repeat(9000)}`, "deny:credential_too_long"),
      api("non-ASCII in the token", `Bearer pcl_${"é".repeat(43)}`, "deny:malformed_credential"),
      onInternal(INTERNAL_HOST),
      onInternal("INTERNAL.EXAMPLE.COM"),
      onInternal(`${INTERNAL_HOST}.`),
      onInternal(`${INTERNAL_HOST}:443`),
      onInternal(`${INTERNAL_HOST}:8080`),
      onInternal(`user@${INTERNAL_HOST}`, "deny:bad_host"),
      onInternal(`${INTERNAL_HOST}@api.example.com`, "deny:bad_host"),
      onInternal(`${INTERNAL_HOST}\u0000.api.example.com`, "deny:bad_host"),
      onInternal(`${INTERNAL_HOST} `, "deny:bad_host"),
      onInternal(`${INTERNAL_HOST}:99999`, "deny:bad_host"),
      onInternal(`${INTERNAL_HOST}:`, "deny:bad_host"),
      onInternal("internal%2eexample.com", "deny:bad_host"),
      onInternal(`${"a".repeat(300)}.${INTERNAL_HOST}`, "deny:bad_host"),
      onPath("/admin", "deny:insufficient_scope"),
      onPath("/admin/users", "deny:insufficient_scope"),
      onPath("/api/../admin/users", "deny:bad_resource"),
      onPath("/./admin", "deny:bad_resource"),
      onPath("//admin", "deny:bad_resource"),
      onPath("/%61dmin", "deny:bad_resource"),
      onPath("/api/%2e%2e/admin", "deny:bad_resource"),
      onPath("/api/..%2fadmin", "deny:bad_resource"),
      onPath("/admin%2f", "deny:bad_resource"),
      onPath("/admin;jsessionid=1", "deny:bad_resource"),
      onPath("/admin?x=1", "deny:insufficient_scope"),
      onPath("/admin#top", "deny:insufficient_scope"),
      onPath("/adm\u0000in", "deny:bad_resource"),
      onPath("/api\\..\\admin", "deny:bad_resource"),
      onPath("relative/admin", "deny:bad_resource"),
      onPath(`/${"x".repeat(9000)}`, "deny:bad_resource"),
      tool("search", "deny:insufficient_scope"),
      tool("delete", "deny:tool_not_allowed"),
      tool("LOOKUP", "deny:tool_not_allowed"),
      tool("lookup ", "deny:bad_resource"),
      tool("lookup\u0000", "deny:bad_resource"),
      tool("../lookup", "deny:bad_resource"),
      tool("", "deny:bad_resource"),
      tool("x".repeat(300), "deny:bad_resource"),
      extensions("naming the admin rule", { rule: "admin-area" }, "deny:insufficient_scope"),
      extensions("naming no rule there is", { rule: "no-such-rule" }, "deny:unknown_rule"),
      extensions("naming __proto__ as the rule", { rule: "__proto__" }, "deny:unknown_rule"),
      extensions("with an empty required scope", { required_scope: "" }, "deny:no_required_scope"),
      extensions("with a required scope the token lacks", { required_scope: "admin" }, "deny:insufficient_scope"),
      extensions("with keys Portcullis does not read", { allow: "true", decision: "allow" }, "allow:ok"),
    ];
  }

  it("answers every malformed or hostile input with its specific reason, echoes none of it and stays healthy", async () => {
    const table = cases();
    const mismatches: { name: string; transport: string; got: Verdict; expected: Verdict }[] = [];
    let wrongful = 0;
    let operations = 0;
    for (const entry of table) {
      const verdicts: [string, Verdict][] = [];
      if (entry.authorize) verdicts.push(["authorize", await authorizeVerdict(clients, entry.authorize)]);
      if (entry.check) verdicts.push(["check", await checkVerdict(envoy, entry.check)]);
      operations += verdicts.length;
      sent.push(entry.authorize?.authorization ?? "", entry.authorize?.resource ?? "", entry.authorize?.host ?? "", entry.check?.path ?? "");
      for (const [transport, got] of verdicts) {
        if (got !== entry.expected) mismatches.push({ name: entry.name, transport, got, expected: entry.expected });
        if (isAllow(got) && !isAllow(entry.expected)) wrongful++;
      }
    }

    // Properties over spaces too large for a table; every input is sent through both transports.
    const denyReasons = new Set(Object.keys(REASON_CODES).filter((code) => REASON_CODES[code as keyof typeof REASON_CODES] === "deny"));
    const denied = (verdict: Verdict) => verdict.startsWith("deny:") && denyReasons.has(verdict.slice("deny:".length));
    let propertyInputs = 0;
    const property = async (make: (value: string) => InputCase, arbitrary: fc.Arbitrary<string>) => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (value) => {
          const entry = make(value);
          propertyInputs++;
          sent.push(value);
          const verdicts = [await authorizeVerdict(clients, entry.authorize!), await checkVerdict(envoy, entry.check!)];
          operations += 2;
          wrongful += verdicts.filter(isAllow).length;
          return verdicts.every(denied);
        }),
        { numRuns: PROPERTY_RUNS },
      );
    };
    const tokenish = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 100 }), fc.base64String({ maxLength: 120 }));
    await property((value) => both("any Authorization", value, "GET", "/api/data", "api.example.com", "deny:"), tokenish);
    await property((value) => both("any bearer", `Bearer ${value}`, "GET", "/api/data", "api.example.com", "deny:"), tokenish);
    await property((value) => both("any pcl_ secret", `Bearer pcl_${value}`, "GET", "/api/data", "api.example.com", "deny:"), fc.base64String({ minLength: 40, maxLength: 48 }));
    await property(
      (value) => both("any path on the internal host", `Bearer ${reader}`, "GET", value, INTERNAL_HOST, "deny:"),
      fc.oneof(fc.webPath(), fc.string({ maxLength: 300 }).map((path) => `/${path}`)),
    );
    await property(
      (value) => ({ name: "any tool but lookup", authorize: { authorization: `Bearer ${reader}`, resource: `tool:${value}` }, check: { method: "POST", path: "/mcp", headers: { authorization: `Bearer ${reader}` }, contextExtensions: { tool: value } }, expected: "deny:" }),
      fc.string({ maxLength: 300 }).filter((name) => name !== "lookup"),
    );

    const output = server.output();
    const leaked = leakedCredentials(output, [reader, revoked]).length + echoedInputs(output, sent, LOGGED_INPUT_LENGTH).length;
    recordRow({
      test: "Bad inputs: bearer shapes, hosts, paths, tools, context extensions (table and fast-check properties)",
      operations,
      faults: 0,
      badInputs: table.filter((entry) => !isAllow(entry.expected)).length + propertyInputs,
      wrongfulAllows: wrongful,
      tokensLost: 0,
      secretsLeaked: leaked,
      recoverySeconds: null,
      p99DuringFaultMs: null,
    });
    expect(mismatches).toEqual([]);
    expect(await authorizeVerdict(clients, { authorization: `Bearer ${reader}`, resource: "GET /api/data", host: "api.example.com" })).toBe("allow:ok");
    expect(isServing(await probe(server.url))).toBe(true);
    expect(server.child.exitCode).toBeNull();
  });
});
