import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { REASON_CODES } from "../../src/model/reason-codes.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { bearer, createClients, rejectionOf } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { eventually } from "../support/eventually.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";

/** The log lines written in full so far: the last piece of the output may still be arriving. */
function logEntries(server: PortcullisProcess): Record<string, unknown>[] {
  return server
    .output()
    .split("\n")
    .slice(0, -1)
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("metrics and decision logs of a running server", () => {
  let server: PortcullisProcess;
  const secrets: string[] = [];

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("counts allow and deny decisions per transport and reason, and admin calls per method and code", async () => {
    const clients = createClients(server.url);
    const root = await server.rootToken();
    const minted = await clients.admin.mintToken({ scopes: ["kafka:read"], name: "reader" }, bearer(root));
    const secret = minted.token;
    secrets.push(secret, root);
    expect((await rejectionOf(clients.admin.listTokens({}, bearer(secret)))).code).toBe(Code.PermissionDenied);

    const authorize = (authorization: string, resource: string) => clients.authorization.authorize({ authorization, resource });
    expect((await authorize(`Bearer ${secret}`, "GET /api/kafka/topics")).decision).toBe(Decision.ALLOW);
    expect((await authorize(`Bearer ${secret}`, `GET /api/kafka/topics?access_token=${secret}`)).decision).toBe(Decision.ALLOW);
    expect((await authorize(`Bearer ${secret}`, "POST /api/kafka/topics")).reason).toBe("insufficient_scope");
    expect((await authorize("", "GET /api/kafka/topics")).reason).toBe("missing_credential");
    expect((await authorize("", "GET /health")).reason).toBe("public_resource");
    expect((await clients.authorization.resolveLibraries({ authorization: `Bearer ${secret}` })).libraries).toEqual([]);
    await rejectionOf(clients.authorization.resolveLibraries({ authorization: `Bearer ${secret}x` }));

    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    const samples = parseSamples(text);
    const decisions = (transport: string, decision: string, reason: string) =>
      sampleValue(samples, "portcullis_decisions_total", { transport, decision, reason });
    expect(decisions("authorize", "allow", "ok")).toBe(2);
    expect(decisions("authorize", "deny", "insufficient_scope")).toBe(1);
    expect(decisions("authorize", "deny", "missing_credential")).toBe(1);
    expect(decisions("authorize", "allow", "public_resource")).toBe(1);
    expect(decisions("authorize", "deny", "token_revoked")).toBe(0);
    expect(decisions("resolve_libraries", "allow", "ok")).toBe(1);
    expect(decisions("resolve_libraries", "deny", "unknown_token")).toBe(1);
    const latency = (outcome: string) =>
      sampleValue(samples, "portcullis_decision_duration_seconds_count", { transport: "authorize", outcome });
    expect([latency("allow"), latency("deny"), latency("unavailable")]).toEqual([3, 2, 0]);
    const admin = (method: string, code: string) => sampleValue(samples, "portcullis_admin_operations_total", { method, code });
    expect([admin("MintToken", "ok"), admin("ListTokens", "permission_denied")]).toEqual([1, 1]);
    expect(sampleValue(samples, "portcullis_store_errors_total", { backend: "embedded", operation: "tokens.get", kind: "unavailable" })).toBe(0);
    expect(samples.some((sample) => sample.name === "process_cpu_user_seconds_total")).toBe(true);
    expect(samples.some((sample) => sample.name === "nodejs_eventloop_lag_seconds")).toBe(true);

    // Labels come from closed sets only.
    const reasons = new Set([...Object.keys(REASON_CODES), "other"]);
    for (const sample of samples.filter((each) => each.name === "portcullis_decisions_total")) {
      expect(reasons.has(sample.labels.reason!)).toBe(true);
    }
    for (const leaked of [secret, root, minted.record!.tokenId, "reader", "/api/kafka"]) expect(text).not.toContain(leaked);
  });

  it("logs each decision at debug with its token id and resource, never a secret or the root token", async () => {
    const decisions = () => logEntries(server).filter((entry) => entry.msg === "decision");
    const allowedIn = (entries: Record<string, unknown>[]) =>
      entries.filter((entry) => entry.transport === "authorize" && entry.reason === "ok");
    const resolvesIn = (entries: Record<string, unknown>[]) => entries.filter((entry) => entry.transport === "resolve_libraries");
    // The answers came back before the child's log lines crossed its stdout pipe: wait for the lines.
    await eventually(async () => {
      const entries = decisions();
      return allowedIn(entries).length >= 2 && resolvesIn(entries).length >= 2;
    }, 10_000);
    const entries = decisions();
    const allowed = allowedIn(entries);
    expect(allowed).toHaveLength(2);
    for (const entry of allowed) {
      expect(entry).toMatchObject({ level: 20, log: "decision", decision: "allow", credentialType: "opaque", resource: "GET /api/kafka/topics" });
      expect(entry.principal).toEqual({ tokenId: expect.stringMatching(/^tok_/) });
      expect(entry.latencyMs).toEqual(expect.any(Number));
    }
    expect(resolvesIn(entries)).toHaveLength(2);

    const output = server.output();
    expect(secrets).toHaveLength(2);
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toContain("access_token");
    // Nothing even reached the logger's last-resort masking: the code itself kept secrets out.
    expect(output).not.toContain("[redacted");
  });
});

describe("a server with metrics switched off", () => {
  let server: PortcullisProcess;

  beforeAll(async () => {
    server = await startPortcullisProcess({ env: { PORTCULLIS_CONFIG: EXAMPLE_CONFIG, PORTCULLIS_METRICS_ENABLED: "false" } });
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("answers /metrics with 404 and still decides", async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const decision = await createClients(server.url).authorization.authorize({ authorization: "", resource: "GET /health" });
    expect(decision.decision).toBe(Decision.ALLOW);
  });
});
