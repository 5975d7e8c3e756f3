/**
 * The decisions a server counted (its /metrics), so a run can prove it
 * measured the decisions it meant to: a benchmark of errors measures nothing.
 */
import { parseSamples } from "../test/support/prometheus-text.js";

export interface DecisionCounts {
  allow: number;
  deny: number;
  /** Calls that got no decision (a dependency unavailable, or an error). */
  failed: number;
}

export async function decisionCounts(url: string): Promise<DecisionCounts> {
  const response = await fetch(`${url}/metrics`);
  if (!response.ok) throw new Error(`GET ${url}/metrics answered ${response.status}`);
  const counts: DecisionCounts = { allow: 0, deny: 0, failed: 0 };
  for (const sample of parseSamples(await response.text())) {
    if (sample.name === "portcullis_decisions_total" && (sample.labels.decision === "allow" || sample.labels.decision === "deny")) {
      counts[sample.labels.decision] += sample.value;
    }
    if (sample.name === "portcullis_decision_duration_seconds_count" && (sample.labels.outcome === "unavailable" || sample.labels.outcome === "error")) {
      counts.failed += sample.value;
    }
  }
  return counts;
}

export function countsDelta(before: DecisionCounts, after: DecisionCounts): DecisionCounts {
  return { allow: after.allow - before.allow, deny: after.deny - before.deny, failed: after.failed - before.failed };
}

/** Why `delta` is not what a scenario allowing `allowShare` of its decisions must produce; undefined when it is. */
export function unexpectedDecisions(delta: DecisionCounts, allowShare: number, requests: number): string | undefined {
  const decided = delta.allow + delta.deny;
  if (delta.failed > 0) return `${delta.failed} calls got no decision (unavailable or error)`;
  if (decided < requests) return `only ${decided} decisions for ${requests} requests`;
  const share = delta.allow / decided;
  if (Math.abs(share - allowShare) > 0.02) return `${(share * 100).toFixed(1)}% allowed, expected ${(allowShare * 100).toFixed(0)}%`;
  return undefined;
}
