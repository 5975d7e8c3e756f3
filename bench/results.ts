/**
 * The shape of bench/results.json, the ratios to the raw no-op, and the
 * check CI runs on a quick run: every scenario there, every ratio a finite
 * positive number, the memory step's samples there. No speed is asserted anywhere.
 */
export const SCENARIO_NAMES = [
  "check-redis-opaque",
  "authorize-redis-opaque",
  "authorize-redis-jwt-rs256",
  "authorize-redis-team-jwt",
  "authorize-deny-unknown",
  "authorize-mixed-80-20",
  "check-embedded-opaque",
  "authorize-connect-json",
] as const;

/** Both generators run on one thread: this much of a core means the generator, not the server, may set the pace. */
export const GENERATOR_SATURATED = 0.9;

export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface LatencyAtRate {
  target_rate: number;
  achieved_rate: number;
  requests: number;
  p50_ms: number;
  p99_ms: number;
  p999_ms: number;
  max_ms: number;
}

export interface Measurement {
  description: string;
  generator: string;
  /** Throughput run. */
  requests: number;
  seconds: number;
  rate: number;
  /** Cores the generator used during the throughput run (near 1.0: it may have been the limit). */
  generator_cores: number;
  /** The generator used at least GENERATOR_SATURATED cores: its rate is a lower bound of the server's. */
  generator_saturated: boolean;
  /** Cores the process under test used during the throughput run. */
  server_cores: number;
  cpu_seconds_per_10k: number;
  peak_rss_bytes: number;
  rss_after_bytes: number;
  /** Peak since the scenario began (false: since the process started, the kernel refused the reset). */
  peak_rss_per_scenario: boolean;
  /** INFO commandstats delta over the throughput run per decision; null without Redis. */
  redis_commands_per_decision: number | null;
  redis_commands: Record<string, number> | null;
  /** Decisions the server counted during the throughput run (null for the raw no-op). */
  decisions: { allow: number; deny: number; failed: number } | null;
  latency: Record<string, LatencyAtRate>;
}

export interface ScenarioResult extends Measurement {
  /** Against the raw no-op measured by the same generator in the same run. */
  throughput_ratio: number;
  /** p99 at the lowest fixed rate, against the raw no-op's at that rate. */
  p99_ratio: number;
  latency_ratios: Record<string, { p50_ratio: number; p99_ratio: number }>;
}

/** What replica A changes to take a credential away; each must reach replica B's caches. */
export const REVOCATION_KINDS = ["opaque-token-revoke", "team-token-rotation", "team-deactivation", "signing-key-retirement"] as const;

export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/** Issue 12's bound on the p99 of every kind. */
export const REVOCATION_TARGET_P99_MS = 100;

export interface RevocationResult {
  kind: RevocationKind;
  description: string;
  revocations: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Revocations B still allowed after the poll gave up (counted at the timeout in the figures). */
  timeouts: number;
}

/**
 * One in-process cost against a baseline measured by the same process in
 * the same run: a list, so another measurement is one more entry.
 */
export interface InProcessMeasurement {
  name: string;
  description: string;
  /** What the cost is compared with. */
  baseline: string;
  iterations_per_batch: number;
  batches: number;
  /** CPU time of the process per operation, median over the batches: the cost. */
  ns_per_op: number;
  baseline_ns_per_op: number;
  /** ns_per_op over baseline_ns_per_op. */
  ratio: number;
  /** Wall time per operation, median over the batches: what a caller waits, stretched by anything else on the cores. */
  wall_ns_per_op: number;
  baseline_wall_ns_per_op: number;
  /** The ratio the target allows at most, when there is a target. */
  target_ratio?: number;
}

/** RSS of the server after this many distinct tokens were decided, this long into the step. */
export interface RssSample {
  tokens: number;
  seconds: number;
  rss_bytes: number;
}

/**
 * Memory over many distinct unknown tokens, a step of its own: the
 * Redis-backed server decides each token once (all DENY), its RSS sampled
 * on the way; bounded caches keep it flat.
 */
export interface DistinctTokensMemory {
  description: string;
  /** Tokens the step set out to send, and the bound on its length. */
  target_tokens: number;
  max_seconds: number;
  /** Load-client processes sending at once. */
  load_clients: number;
  /** Distinct tokens the server decided (fewer than the target when the time bound came first). */
  tokens: number;
  /** Calls answered with an error instead of a decision (failing closed, e.g. a Redis read past its deadline); at most one in a thousand. */
  failed: number;
  seconds: number;
  rate: number;
  server_cores: number;
  cpu_seconds_per_10k: number;
  /** The server's negative cache as configured: its bound on entries and how long it keeps one. */
  negative_max_entries: number;
  negative_ttl_ms: number;
  /** At the start, each tenth of the target reached, and the end. */
  rss_samples: RssSample[];
  peak_rss_bytes: number;
  /** Peak since the step began (false: since the process started, the kernel refused the reset). */
  peak_rss_per_step: boolean;
}

export interface BenchResults {
  /** 2: revocation by kind, in_process added; 3: distinct_tokens_memory added. */
  schema: 3;
  mode: "quick" | "full";
  generated_at: string;
  commit: string;
  machine: Record<string, string | number>;
  generators: { fixed_body: string; per_request_body: string };
  settings: Record<string, number | number[]>;
  /** The raw no-op, by generator name. */
  baselines: Record<string, Measurement>;
  scenarios: Partial<Record<ScenarioName, ScenarioResult>>;
  /** Absent from a profiled run, which measures one scenario only (so are the in-process measurements). */
  revocation?: RevocationResult[];
  in_process?: InProcessMeasurement[];
  distinct_tokens_memory?: DistinctTokensMemory;
  profile?: { scenario: string; file: string; top: { frame: string; self_ms: number; share: number }[] };
}

/** A results file's text as results of this schema; refuses another schema, whose sections would be rendered wrongly. */
export function parseResults(text: string, label: string): BenchResults {
  const results = JSON.parse(text) as BenchResults;
  if (results.schema !== 3) throw new Error(`${label} has results schema ${String(results.schema)}; this bench writes schema 3: run it again to regenerate`);
  return results;
}

export function withRatios(measurement: Measurement, baseline: Measurement): ScenarioResult {
  const rates = Object.keys(measurement.latency);
  const latency_ratios = Object.fromEntries(
    rates.map((rate) => {
      const own = measurement.latency[rate]!;
      const base = baseline.latency[rate];
      return [rate, { p50_ratio: base ? own.p50_ms / base.p50_ms : NaN, p99_ratio: base ? own.p99_ms / base.p99_ms : NaN }];
    }),
  );
  const lowest = rates.map(Number).sort((a, b) => a - b)[0];
  return {
    ...measurement,
    throughput_ratio: measurement.rate / baseline.rate,
    p99_ratio: lowest === undefined ? NaN : latency_ratios[String(lowest)]!.p99_ratio,
    latency_ratios,
  };
}

/** What is wrong with a results file for CI: missing scenarios, ratios that are not finite positive numbers. Empty when fine. */
export function resultsProblems(results: BenchResults, expected: readonly string[] = SCENARIO_NAMES): string[] {
  const problems: string[] = [];
  const positive = (value: unknown) => typeof value === "number" && Number.isFinite(value) && value > 0;
  for (const name of expected) {
    const scenario = (results.scenarios as Record<string, ScenarioResult | undefined>)[name];
    if (scenario === undefined) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (!positive(scenario.throughput_ratio)) problems.push(`${name}: throughput_ratio is ${scenario.throughput_ratio}`);
    if (!positive(scenario.p99_ratio)) problems.push(`${name}: p99_ratio is ${scenario.p99_ratio}`);
    for (const [rate, ratios] of Object.entries(scenario.latency_ratios ?? {})) {
      if (!positive(ratios.p50_ratio) || !positive(ratios.p99_ratio)) problems.push(`${name}: latency ratios at ${rate} req/s are ${JSON.stringify(ratios)}`);
    }
    if (Object.keys(scenario.latency_ratios ?? {}).length === 0) problems.push(`${name}: no latency at a fixed rate`);
  }
  for (const kind of REVOCATION_KINDS) {
    const revocation = results.revocation?.find((measured) => measured.kind === kind);
    if (revocation === undefined || !(revocation.revocations > 0) || !Number.isFinite(revocation.p99_ms)) problems.push(`revocation ${kind}: missing`);
  }
  if (results.in_process === undefined || results.in_process.length === 0) problems.push("in_process: missing");
  for (const measured of results.in_process ?? []) {
    for (const field of ["ns_per_op", "baseline_ns_per_op", "ratio", "wall_ns_per_op", "baseline_wall_ns_per_op"] as const) {
      if (!positive(measured[field])) problems.push(`in_process ${measured.name}: ${field} is ${measured[field]}`);
    }
  }
  const memory = results.distinct_tokens_memory;
  if (memory === undefined) problems.push("distinct_tokens_memory: missing");
  else {
    if (!(memory.tokens > 0)) problems.push(`distinct_tokens_memory: tokens is ${memory.tokens}`);
    if (!positive(memory.negative_max_entries)) problems.push(`distinct_tokens_memory: negative_max_entries is ${memory.negative_max_entries}`);
    if (!positive(memory.peak_rss_bytes)) problems.push(`distinct_tokens_memory: peak_rss_bytes is ${memory.peak_rss_bytes}`);
    if (memory.rss_samples.length < 2 || !memory.rss_samples.every((sample) => positive(sample.rss_bytes))) {
      problems.push(`distinct_tokens_memory: rss_samples are ${JSON.stringify(memory.rss_samples)}`);
    }
  }
  return problems;
}
