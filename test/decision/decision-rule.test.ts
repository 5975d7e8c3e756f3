import { describe, expect, it } from "vitest";
import { DecisionEngine } from "../../src/decision/engine.js";
import { Policy } from "../../src/policy/policy.js";
import { fakeVerifier, identity } from "./fakes.js";

const READER = identity({ tokenId: "tok_reader", scopes: ["kafka:read"] });

const policy = new Policy({
  default_scope: "anything",
  rules: [
    { name: "health", resource: "GET /health", public: true },
    { name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET"], scope: "kafka:read" },
  ],
});

function decide(resource: string, extra: { requiredScope?: string; allowAll?: boolean } = {}) {
  const engine = new DecisionEngine(policy, fakeVerifier({ reader: () => ({ identity: READER }) }).authenticator, { allowAll: extra.allowAll });
  return engine.decide({ authorization: "Bearer reader", resource, requiredScope: extra.requiredScope });
}

describe("the rule a decision names", () => {
  it("is the matched rule for an allow, a denial after the rule and a public resource", async () => {
    expect(await decide("GET /api/kafka/topics")).toMatchObject({ allowed: true, rule: "kafka-read" });
    expect(await decide("GET /health")).toMatchObject({ allowed: true, reason: "public_resource", rule: "health" });
    expect(await decide("GET /api/other")).toMatchObject({ allowed: false, reason: "insufficient_scope", rule: "default" });
  });

  it("is still the covering rule when the request replaces that rule's scope", async () => {
    expect(await decide("GET /api/kafka/topics", { requiredScope: "kafka:write" })).toMatchObject({ allowed: false, rule: "kafka-read" });
  });

  it("is required_scope when no rule covers the resource and the request's own scope decided", async () => {
    const uncovered = new DecisionEngine(new Policy({ rules: [] }), fakeVerifier({ reader: () => ({ identity: READER }) }).authenticator);
    const decision = await uncovered.decide({ authorization: "Bearer reader", resource: "GET /elsewhere", requiredScope: "kafka:read" });
    expect(decision).toMatchObject({ allowed: true, reason: "ok", rule: "required_scope" });
    expect(await uncovered.decide({ authorization: "Bearer reader", resource: "GET /elsewhere" })).toMatchObject({ reason: "no_policy" });
    expect((await uncovered.decide({ authorization: "Bearer reader", resource: "GET /elsewhere" })).rule).toBeUndefined();
  });

  it("is absent when the request was refused before any rule was looked at, and kept by development's allow-all", async () => {
    expect((await decide("GET /a/../b")).rule).toBeUndefined();
    expect(await decide("GET /api/other", { allowAll: true })).toMatchObject({ reason: "dev_allow_all", rule: "default" });
  });
});
