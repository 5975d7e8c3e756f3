import { describe, expect, it } from "vitest";
import type { Verification } from "../../src/credentials/credential-verifier.js";
import type { ReasonCode } from "../../src/model/reason-codes.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { DeadlineExceededError, UnavailableError } from "../../src/errors.js";
import { fakeFirstUse, fakePolicy, fakeVerifier, identity, requirement } from "./fakes.js";

const READER = identity({ tokenId: "tok_reader", scopes: ["kafka:read"] });
const STAR = identity({ tokenId: "tok_star", scopes: ["*"], source: "bootstrap" });
const SEARCHER = identity({ tokenId: "tok_searcher", scopes: ["mcp:call"], allowedTools: ["search"] });
const JTI = { issuer: "https://idp.example", jti: "jti-1", validUntil: Number.MAX_SAFE_INTEGER };
const ONCE = identity({ tokenId: "jwt:idp:1", credentialType: "jwt", scopes: ["pay"], jti: JTI });
const NO_JTI = identity({ tokenId: "tok_payer", scopes: ["pay"] });

function verifier(extra: Record<string, () => Verification> = {}) {
  return fakeVerifier({
    reader: () => ({ identity: READER }),
    star: () => ({ identity: STAR }),
    searcher: () => ({ identity: SEARCHER }),
    once: () => ({ identity: ONCE }),
    payer: () => ({ identity: NO_JTI }),
    ...extra,
  });
}

describe("the requirement phase", () => {
  it("asks the credential for the scope of the rule that covers the resource", async () => {
    const { policy, asked } = fakePolicy(requirement("kafka:read"));
    const engine = new DecisionEngine(policy, verifier().authenticator);
    const decision = await engine.decide({ authorization: "Bearer reader", resource: "GET /api/kafka/topics" });
    expect(decision).toMatchObject({ allowed: true, reason: "ok", identity: READER, requiredScope: "kafka:read" });
    expect(asked).toEqual([{ kind: "http", method: "GET", path: "/api/kafka/topics" }]);
  });

  it("denies a resource no rule covers as no_policy without looking at the credential", async () => {
    const credentials = verifier();
    const engine = new DecisionEngine(fakePolicy(undefined).policy, credentials.authenticator);
    expect(await engine.decide({ authorization: "Bearer reader", resource: "GET /elsewhere" })).toMatchObject({
      allowed: false,
      denial: "forbidden",
      reason: "no_policy",
    });
    expect(credentials.asked).toEqual([]);
  });

  it.each(["host_required", "bad_host"] as const)("passes a host rule's refusal %s through without looking at the credential", async (refusal) => {
    const credentials = verifier();
    const engine = new DecisionEngine(fakePolicy({ refusal }).policy, credentials.authenticator);
    const decision = await engine.decide({ authorization: "Bearer star", resource: "GET /admin" });
    expect(decision).toMatchObject({ allowed: false, denial: "forbidden", reason: refusal });
    expect(credentials.asked).toEqual([]);
  });

  it("denies an unparsable resource as bad_resource before asking the policy", async () => {
    const { policy, asked } = fakePolicy(requirement("kafka:read"));
    const engine = new DecisionEngine(policy, verifier().authenticator);
    expect(await engine.decide({ authorization: "Bearer reader", resource: "GET /a/../b" })).toMatchObject({ allowed: false, reason: "bad_resource" });
    expect(asked).toEqual([]);
  });

  it("lets a required scope replace the rule's scope", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read")).policy, verifier().authenticator);
    const decision = await engine.decide({ authorization: "Bearer reader", resource: "GET /api/kafka", requiredScope: "kafka:write" });
    expect(decision).toMatchObject({ allowed: false, reason: "insufficient_scope", requiredScope: "kafka:write" });
  });

  it("never lets a required scope make a public resource public", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("", { public: true })).policy, verifier().authenticator);
    expect(await engine.decide({ authorization: "", resource: "GET /health" })).toMatchObject({ allowed: true, reason: "public_resource" });
    expect(await engine.decide({ authorization: "", resource: "GET /health", requiredScope: "ops" })).toMatchObject({
      allowed: false,
      denial: "unauthenticated",
      reason: "missing_credential",
    });
  });

  it("decides a required scope where no rule covers the resource", async () => {
    const engine = new DecisionEngine(fakePolicy(undefined).policy, verifier().authenticator);
    const decision = await engine.decide({ authorization: "Bearer reader", resource: "GET /elsewhere", requiredScope: "kafka:read" });
    expect(decision).toMatchObject({ allowed: true, reason: "ok", requiredScope: "kafka:read" });
  });

  it("denies a present but empty required scope as no_required_scope, even for a * credential", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read")).policy, verifier().authenticator);
    const decision = await engine.decide({ authorization: "Bearer star", resource: "GET /api/kafka", requiredScope: "" });
    expect(decision).toMatchObject({ allowed: false, denial: "forbidden", reason: "no_required_scope" });
  });

  it("chooses a rule by name, and denies a name the policy does not know as unknown_rule", async () => {
    const { policy, asked } = fakePolicy(requirement("kafka:read"), { writers: requirement("kafka:write") });
    const engine = new DecisionEngine(policy, verifier().authenticator);
    expect(await engine.decide({ authorization: "Bearer reader", resource: "GET /api/kafka", ruleName: "writers" })).toMatchObject({
      allowed: false,
      reason: "insufficient_scope",
      requiredScope: "kafka:write",
    });
    expect(await engine.decide({ authorization: "Bearer reader", resource: "GET /api/kafka", ruleName: "nobody" })).toMatchObject({
      allowed: false,
      denial: "forbidden",
      reason: "unknown_rule",
    });
    expect(asked).toEqual([]);
  });
});

describe("the identity phase", () => {
  const guarded = fakePolicy(requirement("kafka:read")).policy;

  it.each<ReasonCode>(["unknown_token", "token_revoked", "token_expired", "bad_signature", "wrong_audience", "team_inactive"])(
    "passes the verifier's rejection %s through as an unauthenticated denial",
    async (reason) => {
      const engine = new DecisionEngine(guarded, verifier({ refused: () => ({ rejection: { reason } }) }).authenticator);
      expect(await engine.decide({ authorization: "Bearer refused", resource: "GET /api/kafka" })).toEqual({
        allowed: false,
        denial: "unauthenticated",
        reason,
        identity: undefined,
        requiredScope: "kafka:read",
        rule: "needs-kafka:read",
      });
    },
  );

  it.each([
    ["", "missing_credential"],
    ["Basic cmVhZGVy", "unsupported_scheme"],
    ["Bearer not a token", "malformed_credential"],
  ])("denies the Authorization value %j as %s without asking a verifier", async (authorization, reason) => {
    const credentials = verifier();
    const engine = new DecisionEngine(guarded, credentials.authenticator);
    expect(await engine.decide({ authorization, resource: "GET /api/kafka" })).toMatchObject({ allowed: false, denial: "unauthenticated", reason });
    expect(credentials.asked).toEqual([]);
  });

  it("rethrows a verifier outage rather than deciding", async () => {
    const outage = () => {
      throw new UnavailableError("store unavailable");
    };
    const engine = new DecisionEngine(guarded, verifier({ outage }).authenticator, { allowAll: true });
    await expect(engine.decide({ authorization: "Bearer outage", resource: "GET /api/kafka" })).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe("the authorization phase", () => {
  it("allows a credential holding the scope or *, and denies any other as insufficient_scope with its identity", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read")).policy, verifier().authenticator);
    const decide = (bearer: string) => engine.decide({ authorization: `Bearer ${bearer}`, resource: "GET /api/kafka" });
    expect(await decide("reader")).toMatchObject({ allowed: true, reason: "ok" });
    expect(await decide("star")).toMatchObject({ allowed: true, reason: "ok", identity: STAR });
    expect(await decide("searcher")).toEqual({
      allowed: false,
      denial: "forbidden",
      reason: "insufficient_scope",
      identity: SEARCHER,
      requiredScope: "kafka:read",
      rule: "needs-kafka:read",
    });
  });

  it("confines tool resources to a credential's allowed tools, and leaves HTTP resources alone", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("mcp:call")).policy, verifier().authenticator);
    const decide = (resource: string) => engine.decide({ authorization: "Bearer searcher", resource });
    expect(await decide("tool:search")).toMatchObject({ allowed: true, reason: "ok" });
    expect(await decide("tool:delete_everything")).toMatchObject({ allowed: false, denial: "forbidden", reason: "tool_not_allowed" });
    expect(await decide("POST /mcp")).toMatchObject({ allowed: true, reason: "ok" });
  });

  it("allows any tool to a credential without an allowed-tools list", async () => {
    const engine = new DecisionEngine(fakePolicy(requirement("*")).policy, verifier().authenticator);
    expect(await engine.decide({ authorization: "Bearer star", resource: "tool:anything" })).toMatchObject({ allowed: true, reason: "ok" });
  });

  it("allows a single-use rule once per credential instance and denies the replay as already_used", async () => {
    const firstUse = fakeFirstUse();
    const engine = new DecisionEngine(fakePolicy(requirement("pay", { singleUse: true })).policy, verifier().authenticator, {
      singleUse: firstUse.registry,
    });
    const decide = () => engine.decide({ authorization: "Bearer once", resource: "POST /pay" });
    expect(await decide()).toMatchObject({ allowed: true, reason: "ok" });
    expect(await decide()).toMatchObject({ allowed: false, denial: "forbidden", reason: "already_used", identity: ONCE });
  });

  it("denies a single-use rule to a credential without a jti, or when nothing records first uses", async () => {
    const policy = fakePolicy(requirement("pay", { singleUse: true })).policy;
    const withLedger = new DecisionEngine(policy, verifier().authenticator, { singleUse: fakeFirstUse().registry });
    const withoutLedger = new DecisionEngine(policy, verifier().authenticator);
    expect(await withLedger.decide({ authorization: "Bearer payer", resource: "POST /pay" })).toMatchObject({ reason: "single_use_requires_jti" });
    expect(await withoutLedger.decide({ authorization: "Bearer once", resource: "POST /pay" })).toMatchObject({ reason: "single_use_requires_jti" });
  });

  it("uses nothing up when a single-use request is denied for another reason", async () => {
    const firstUse = fakeFirstUse();
    const engine = new DecisionEngine(fakePolicy(requirement("refund", { singleUse: true })).policy, verifier().authenticator, {
      singleUse: firstUse.registry,
    });
    expect(await engine.decide({ authorization: "Bearer once", resource: "POST /refund" })).toMatchObject({ reason: "insufficient_scope" });
    expect(firstUse.seen.size).toBe(0);
  });
});

describe("development's allow-all", () => {
  const policy = fakePolicy(requirement("kafka:write")).policy;

  it("turns a denial into dev_allow_all, keeping the identity it found", async () => {
    const engine = new DecisionEngine(policy, verifier().authenticator, { allowAll: true });
    expect(await engine.decide({ authorization: "Bearer reader", resource: "POST /api/kafka" })).toMatchObject({
      allowed: true,
      reason: "dev_allow_all",
      identity: READER,
    });
    expect(await engine.decide({ authorization: "", resource: "POST /api/kafka" })).toMatchObject({ allowed: true, reason: "dev_allow_all" });
  });

  it("leaves an allow as it is", async () => {
    const engine = new DecisionEngine(policy, verifier().authenticator, { allowAll: true });
    expect(await engine.decide({ authorization: "Bearer star", resource: "POST /api/kafka" })).toMatchObject({ allowed: true, reason: "ok" });
  });
});

describe("a request past its caller's deadline", () => {
  it("is never decided, and no credential is looked at", async () => {
    const credentials = fakeVerifier({ good: () => ({ identity: identity({ tokenId: "t1", scopes: ["kafka:read"] }) }) });
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read")).policy, credentials.authenticator, { allowAll: true });
    const controller = new AbortController();
    controller.abort();
    await expect(engine.decide({ authorization: "Bearer good", resource: "GET /x", signal: controller.signal })).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(credentials.asked).toEqual([]);
  });

  it("stops waiting on a verifier when the deadline passes, and uses up no single-use credential afterwards", async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const ref = { issuer: "idp", jti: "j1", validUntil: Date.now() + 60_000 };
    const slow: Verification = { identity: identity({ tokenId: "t1", scopes: ["kafka:read"], jti: ref }) };
    const { registry, seen } = fakeFirstUse();
    const authenticator = { authenticate: () => released.then(() => slow) };
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read", { singleUse: true })).policy, authenticator, { singleUse: registry });
    const controller = new AbortController();
    const decided = engine.decide({ authorization: "Bearer slow", resource: "GET /x", signal: controller.signal });
    controller.abort();
    await expect(decided).rejects.toBeInstanceOf(DeadlineExceededError);
    release();
    await released;
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.size).toBe(0);
    // The same credential, asked in time, is still unused.
    await expect(engine.decide({ authorization: "Bearer slow", resource: "GET /x", signal: new AbortController().signal })).resolves.toMatchObject({ allowed: true });
  });

  it("carries a verifier's detail on the denial", async () => {
    const credentials = fakeVerifier({ dup: () => ({ rejection: { reason: "bad_claim", detail: "duplicate member name" } }) });
    const engine = new DecisionEngine(fakePolicy(requirement("kafka:read")).policy, credentials.authenticator);
    await expect(engine.decide({ authorization: "Bearer dup", resource: "GET /x" })).resolves.toMatchObject({
      allowed: false,
      reason: "bad_claim",
      detail: "duplicate member name",
    });
  });
});
