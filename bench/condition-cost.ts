/**
 * What a rule's `when` costs a decision, in process: a warm decision whose
 * matching rule has a condition, against the same policy with no condition
 * on that rule (issue 13: "rules without `when` cost nothing extra"; the
 * baseline is that rule). The credential check is a stand-in answering at
 * once, so the difference is the condition's own cost: building the
 * variables and evaluating the expression.
 */
import { DecisionEngine, type CredentialCheck } from "../src/decision/engine.js";
import type { DecisionRequest } from "../src/decision/decision.js";
import type { Identity } from "../src/model/identity.js";
import { Policy, type PolicyRuleConfig } from "../src/policy/policy.js";
import { costRatio, timeBatches } from "./batch-timing.js";
import type { InProcessSettings } from "./in-process.js";
import type { InProcessMeasurement } from "./results.js";

const IDENTITY: Identity = {
  subject: "jwt:bench-idp:bench-user",
  tokenId: "jwt:bench-idp:1",
  credentialType: "jwt",
  name: "bench-user",
  scopes: ["kafka:read"],
  libraries: [],
  allowedTools: [],
  issuerAlias: "bench-idp",
  claims: { sub: "bench-user", scope: "kafka:read", groups: ["users", "admins"], exp: 4102444800 },
};

const REQUEST: DecisionRequest = { authorization: "Bearer bench", resource: "GET /api/kafka/topics", host: "kafka.internal" };

const CONDITIONS = [
  { name: "rule-condition-on-claims", when: "'admins' in claims.groups" },
  { name: "rule-condition-on-request", when: "request.host.endsWith('.internal')" },
];

function engineWith(when: string | undefined): DecisionEngine {
  const rule: PolicyRuleConfig = { name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET"], scope: "kafka:read" };
  const authenticator: CredentialCheck = { authenticate: async () => ({ identity: IDENTITY }) };
  return new DecisionEngine(new Policy({ rules: [when === undefined ? rule : { ...rule, when }] }), authenticator);
}

function decideAllowed(engine: DecisionEngine): () => Promise<void> {
  return async () => {
    const decision = await engine.decide(REQUEST);
    if (!decision.allowed) throw new Error(`the bench decision denied: ${decision.reason}`);
  };
}

/** One entry per condition, each against the rule without `when` timed in the same batches. */
export async function measureConditionCost(settings: InProcessSettings): Promise<InProcessMeasurement[]> {
  const baseline = decideAllowed(engineWith(undefined));
  const measurements: InProcessMeasurement[] = [];
  for (const condition of CONDITIONS) {
    const withCondition = decideAllowed(engineWith(condition.when));
    for (let warm = 0; warm < 2_000; warm++) {
      await baseline();
      await withCondition();
    }
    const [conditioned, unconditioned] = await timeBatches([withCondition, baseline], settings.iterations_per_batch, settings.batches);
    measurements.push({
      name: condition.name,
      description: `DecisionEngine.decide where the matching rule has \`when: ${condition.when}\` (credential check answering at once)`,
      baseline: "the same decision where the rule has no `when`",
      ...settings,
      ...costRatio(conditioned!, unconditioned!),
    });
  }
  return measurements;
}
