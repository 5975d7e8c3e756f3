import { describe, expect, it } from "vitest";
import { Authenticator } from "../../src/credentials/authenticator.js";
import type { CredentialVerifier, Verification } from "../../src/credentials/credential-verifier.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { DeadlineExceededError, UnavailableError } from "../../src/errors.js";
import type { Identity } from "../../src/model/identity.js";
import type { ReasonCode } from "../../src/model/reason-codes.js";
import { decisionRecorder, type DecisionLogPolicy } from "../../src/observability/decision-recorder.js";
import { instrumentedEngine } from "../../src/observability/instrumented-engine.js";
import { createMetrics, type Metrics } from "../../src/observability/metrics.js";
import { principalView } from "../../src/observability/principal-view.js";
import { Policy } from "../../src/policy/policy.js";
import { captureLog } from "../support/captured-log.js";
import { parseSamples, sampleValue } from "../support/prometheus-text.js";

const READER: Identity = {
  subject: "token:tok_reader",
  tokenId: "tok_reader",
  credentialType: "opaque",
  name: "reader",
  scopes: ["kafka:read"],
  libraries: [],
  allowedTools: [],
};

/** Bearers the tests present, and what verifying each one gives. */
const VERIFICATIONS: Record<string, () => Verification> = {
  "reader-secret-0123456789": () => ({ identity: READER }),
  // The type system keeps such a code out of the source; the metric must still hold if one slips in at run time.
  "stale-secret-0123456789": () => ({ rejection: { reason: "reason_nobody_listed" as ReasonCode } }),
  "duplicate-secret-0123456789": () => ({ rejection: { reason: "bad_claim", detail: "duplicate member name" } }),
  "outage-secret-0123456789": () => {
    // A cause that quotes the credential, as a careless dependency might.
    throw new UnavailableError("store unavailable", { cause: new Error("lookup of outage-secret-0123456789 failed") });
  },
};

const verifier: CredentialVerifier = {
  accepts: () => true,
  async verify(bearer) {
    return VERIFICATIONS[bearer]?.() ?? { rejection: { reason: "unknown_token" } };
  },
};

const policy = new Policy({
  rules: [
    { name: "health", resource: "GET /health", public: true },
    { name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET"], scope: "kafka:read" },
    { name: "kafka-write", path_prefix: "/api/kafka", methods: ["POST"], scope: "kafka:write" },
  ],
});
const authenticator = new Authenticator([verifier]);
const engine = new DecisionEngine(policy, authenticator);

/** Allows unsampled: at info only denials are logged. */
const UNSAMPLED: DecisionLogPolicy = { sampleAllow: () => false, principal: principalView("hash", Buffer.alloc(32, 7)) };

function setup(level = "debug") {
  const metrics = createMetrics();
  const captured = captureLog(level);
  const decider = instrumentedEngine(engine, decisionRecorder("authorize", metrics, captured.log, UNSAMPLED));
  return { metrics, captured, decider };
}

async function samples(metrics: Metrics) {
  return parseSamples(await metrics.registry.metrics());
}

const decisions = "portcullis_decisions_total";
const latencyCount = "portcullis_decision_duration_seconds_count";

describe("the instrumented decision engine", () => {
  it("passes every decision through unchanged and counts it by transport, decision and reason", async () => {
    const { metrics, decider } = setup();
    const requests = [
      { authorization: "Bearer reader-secret-0123456789", resource: "GET /api/kafka/topics" },
      { authorization: "Bearer reader-secret-0123456789", resource: "GET /api/kafka/topics" },
      { authorization: "Bearer reader-secret-0123456789", resource: "POST /api/kafka/topics" },
      { authorization: "", resource: "GET /api/kafka/topics" },
      { authorization: "", resource: "GET /health" },
    ];
    for (const request of requests) expect(await decider.decide(request)).toEqual(await engine.decide(request));

    const all = await samples(metrics);
    const count = (decision: string, reason: string) => sampleValue(all, decisions, { transport: "authorize", decision, reason });
    expect(count("allow", "ok")).toBe(2);
    expect(count("deny", "insufficient_scope")).toBe(1);
    expect(count("deny", "missing_credential")).toBe(1);
    expect(count("allow", "public_resource")).toBe(1);
    expect(count("deny", "token_revoked")).toBe(0);
    expect(sampleValue(all, latencyCount, { transport: "authorize", outcome: "allow" })).toBe(3);
    expect(sampleValue(all, latencyCount, { transport: "authorize", outcome: "deny" })).toBe(2);
  });

  it("labels a reason code missing from the closed list as other, while the log line keeps it", async () => {
    const { metrics, captured, decider } = setup();
    const decision = await decider.decide({ authorization: "stale-secret-0123456789", resource: "GET /api/kafka/topics" });
    expect(decision.reason).toBe("reason_nobody_listed");

    const all = await samples(metrics);
    expect(sampleValue(all, decisions, { transport: "authorize", decision: "deny", reason: "other" })).toBe(1);
    expect(all.some((sample) => sample.labels.reason === "reason_nobody_listed")).toBe(false);
    expect(captured.entries()).toContainEqual(expect.objectContaining({ msg: "decision", reason: "reason_nobody_listed" }));
  });

  it("logs an unsampled allow at debug with token id, credential type, rule and the resource without its query", async () => {
    const { captured, decider } = setup();
    await decider.decide({ authorization: "Bearer reader-secret-0123456789", resource: "GET /api/kafka/topics?sig=query-secret" });

    const [line, ...rest] = captured.entries();
    expect(rest).toEqual([]);
    expect(line).toMatchObject({
      level: 20,
      msg: "decision",
      transport: "authorize",
      decision: "allow",
      reason: "ok",
      rule: "kafka-read",
      principal: { tokenId: "tok_reader" },
      credentialType: "opaque",
      resource: "GET /api/kafka/topics",
      method: "GET",
      path: "/api/kafka/topics",
    });
    expect(line!.latencyMs).toEqual(expect.any(Number));
    expect(captured.text()).not.toContain("reader-secret-0123456789");
    expect(captured.text()).not.toContain("query-secret");
  });

  it("writes no line for an unsampled allow when the log level is info, and every denial at info", async () => {
    const { captured, decider } = setup("info");
    await decider.decide({ authorization: "Bearer reader-secret-0123456789", resource: "GET /api/kafka/topics" });
    expect(captured.text()).toBe("");
    await decider.decide({ authorization: "Bearer reader-secret-0123456789", resource: "POST /api/kafka/topics" });
    expect(captured.entries()).toEqual([
      expect.objectContaining({ level: 30, decision: "deny", reason: "insufficient_scope", rule: "kafka-write", method: "POST" }),
    ]);
  });

  it("rethrows an outage, times it as unavailable and warns without quoting the credential or the error", async () => {
    const { metrics, captured, decider } = setup();
    const request = { authorization: "Bearer outage-secret-0123456789", resource: "GET /api/kafka/topics" };
    await expect(decider.decide(request)).rejects.toBeInstanceOf(UnavailableError);

    const all = await samples(metrics);
    expect(sampleValue(all, latencyCount, { transport: "authorize", outcome: "unavailable" })).toBe(1);
    expect(all.filter((sample) => sample.name === decisions).every((sample) => sample.value === 0)).toBe(true);
    expect(captured.entries()).toEqual([
      expect.objectContaining({ level: 40, transport: "authorize", outcome: "unavailable", resource: "GET /api/kafka/topics" }),
    ]);
    expect(captured.text()).not.toContain("outage-secret");
  });
});

describe("the instrumented request decision past its caller's deadline", () => {
  it("rethrows, times it as deadline_exceeded and warns, counting no decision", async () => {
    const { metrics, captured, decider } = setup();
    const deadline = new AbortController();
    deadline.abort();
    const request = { authorization: "Bearer reader-secret-0123456789", resource: "GET /api/kafka/topics", signal: deadline.signal };
    await expect(decider.decide(request)).rejects.toBeInstanceOf(DeadlineExceededError);

    const all = await samples(metrics);
    expect(sampleValue(all, latencyCount, { transport: "authorize", outcome: "deadline_exceeded" })).toBe(1);
    expect(sampleValue(all, latencyCount, { transport: "authorize", outcome: "error" })).toBe(0);
    expect(all.filter((sample) => sample.name === decisions).every((sample) => sample.value === 0)).toBe(true);
    expect(captured.entries()).toEqual([
      expect.objectContaining({ level: 40, transport: "authorize", outcome: "deadline_exceeded", resource: "GET /api/kafka/topics" }),
    ]);
  });

  it("masks a credential quoted in the resource of a decision line", async () => {
    const { captured, decider } = setup("info");
    const quoted = "pcl_Vb7pQ1xZ3kR8mN2wT5yU9iO0aS4dF6gH8jK1lZ3xC5v";
    await decider.decide({ authorization: "Bearer unknown-secret-0123456789", resource: `GET /api/kafka/${quoted}` });
    expect(captured.entries()).toEqual([expect.objectContaining({ decision: "deny", reason: "unknown_token", resource: "GET /api/kafka/pcl_[redacted]" })]);
    expect(captured.text()).not.toContain(quoted);
  });

  it("logs a verifier's detail beside the reason of a denial", async () => {
    const { captured, decider } = setup();
    await decider.decide({ authorization: "Bearer duplicate-secret-0123456789", resource: "GET /api/kafka/topics" });
    expect(captured.entries()).toEqual([expect.objectContaining({ decision: "deny", reason: "bad_claim", detail: "duplicate member name" })]);
    expect(captured.text()).not.toContain("duplicate-secret");
  });
});

describe("the instrumented caller question", () => {
  it("counts a verified credential as allow ok and a rejection as deny with its reason, passing both through", async () => {
    const metrics = createMetrics();
    const captured = captureLog();
    const check = instrumentedEngine(engine, decisionRecorder("resolve_libraries", metrics, captured.log, UNSAMPLED));
    const ask = (authorization: string) => check.decideCaller({ authorization, requirement: { kind: "any_credential" } });

    expect(await ask("Bearer reader-secret-0123456789")).toMatchObject({ allowed: true, reason: "ok", identity: READER });
    expect(await ask("Bearer not-a-known-secret-0123")).toMatchObject({ allowed: false, reason: "unknown_token" });
    await expect(ask("outage-secret-0123456789")).rejects.toBeInstanceOf(UnavailableError);

    const all = await samples(metrics);
    const count = (decision: string, reason: string) =>
      sampleValue(all, decisions, { transport: "resolve_libraries", decision, reason });
    expect([count("allow", "ok"), count("deny", "unknown_token")]).toEqual([1, 1]);
    expect(sampleValue(all, latencyCount, { transport: "resolve_libraries", outcome: "unavailable" })).toBe(1);
    expect(captured.entries().map((entry) => [entry.decision ?? entry.outcome, (entry.principal as { tokenId?: string } | undefined)?.tokenId])).toEqual([
      ["allow", "tok_reader"],
      ["deny", undefined],
      ["unavailable", undefined],
    ]);
    expect(captured.text()).not.toMatch(/reader-secret|not-a-known-secret|outage-secret/);
  });

  it("logs a caller question with its requirement and scope in place of a resource", async () => {
    const metrics = createMetrics();
    const captured = captureLog();
    const decider = instrumentedEngine(engine, decisionRecorder("dcr", metrics, captured.log, UNSAMPLED));
    await decider.decideCaller({ authorization: "Bearer reader-secret-0123456789", requirement: { kind: "root_or_scope", scope: "dcr:write" } });

    expect(captured.entries()).toEqual([
      expect.objectContaining({ transport: "dcr", question: "caller", requirement: "root_or_scope", scope: "dcr:write", reason: "insufficient_scope" }),
    ]);
    expect(captured.entries()[0]).not.toHaveProperty("resource");
    const all = await samples(metrics);
    expect(sampleValue(all, decisions, { transport: "dcr", decision: "deny", reason: "insufficient_scope" })).toBe(1);
  });
});
