import { describe, expect, it } from "vitest";
import { BEGIN_MARKER, END_MARKER, benchmarksSection, distinctTokensLine, inProcessLines, replaceGeneratedSection, revocationTable, targetRows } from "../../bench/results-markdown.js";
import { parseResults, resultsProblems, REVOCATION_KINDS, SCENARIO_NAMES, withRatios, type BenchResults, type Measurement } from "../../bench/results.js";
import { unexpectedDecisions } from "../../bench/server-decisions.js";

function measurement(rate: number, p50: number, p99: number, commands: number | null = null): Measurement {
  const latency = (target: number) => ({ target_rate: target, achieved_rate: target, requests: target, p50_ms: p50, p99_ms: p99, p999_ms: p99 * 2, max_ms: p99 * 3 });
  return {
    description: "test",
    generator: "h2load",
    requests: rate * 10,
    seconds: 10,
    rate,
    generator_cores: 0.3,
    generator_saturated: false,
    server_cores: 1,
    cpu_seconds_per_10k: 1,
    peak_rss_bytes: 100 * 1024 * 1024,
    rss_after_bytes: 90 * 1024 * 1024,
    peak_rss_per_scenario: true,
    redis_commands_per_decision: commands,
    redis_commands: null,
    decisions: null,
    latency: { "1000": latency(1000), "5000": latency(5000) },
  };
}

const raw = measurement(40_000, 0.5, 2);

function results(): BenchResults {
  return {
    schema: 3,
    mode: "quick",
    generated_at: "2026-12-01T00:00:00.000Z",
    commit: "abc1234",
    machine: { cpu: "test", cores: 2 },
    generators: { fixed_body: "h2load", per_request_body: "bench/load-client.ts" },
    settings: { rates: [1000, 5000] },
    baselines: { h2load: raw },
    scenarios: Object.fromEntries(SCENARIO_NAMES.map((name) => [name, withRatios(measurement(30_000, 0.6, 3, 0), raw)])),
    revocation: REVOCATION_KINDS.map((kind) => ({ kind, description: `a ${kind}`, revocations: 20, p50_ms: 5, p99_ms: 40, max_ms: 60, timeouts: 0 })),
    in_process: [
      {
        name: "warm-verified-jwt-decision",
        description: "a warm decision",
        baseline: "an RS256 verification",
        iterations_per_batch: 1000,
        batches: 5,
        ns_per_op: 1500,
        baseline_ns_per_op: 50_000,
        ratio: 0.03,
        wall_ns_per_op: 1800,
        baseline_wall_ns_per_op: 70_000,
        target_ratio: 0.05,
      },
    ],
    distinct_tokens_memory: {
      description: "unknown tokens",
      target_tokens: 1_000_000,
      max_seconds: 360,
      load_clients: 2,
      tokens: 1_000_000,
      failed: 0,
      seconds: 200,
      rate: 5000,
      server_cores: 0.9,
      cpu_seconds_per_10k: 2,
      negative_max_entries: 10_000,
      negative_ttl_ms: 1000,
      rss_samples: [0, 100_000, 500_000, 1_000_000].map((tokens, index) => ({ tokens, seconds: tokens / 5000, rss_bytes: (200 + Math.min(index, 2) * 10) * MIB })),
      peak_rss_bytes: 230 * MIB,
      peak_rss_per_step: true,
    },
  };
}

const MIB = 1024 * 1024;

describe("ratios to the raw no-op", () => {
  it("divide throughput by the raw rate, and latency by the raw latency at the same rate", () => {
    const scenario = withRatios(measurement(28_000, 1, 5), raw);
    expect(scenario.throughput_ratio).toBeCloseTo(0.7);
    expect(scenario.latency_ratios["5000"]).toEqual({ p50_ratio: 2, p99_ratio: 2.5 });
  });

  it("take p99_ratio at the lowest fixed rate", () => {
    const scenario = withRatios({ ...measurement(28_000, 1, 5), latency: { ...measurement(1, 1, 5).latency, "5000": { ...raw.latency["5000"]!, p99_ms: 100 } } }, raw);
    expect(scenario.p99_ratio).toBe(2.5);
  });
});

describe("reading a results file", () => {
  it("reads one of this schema as it was written", () => {
    expect(parseResults(JSON.stringify(results()), "r.json")).toEqual(results());
  });

  it("refuses a file of the first schema, with its single revocation figure, naming the file", () => {
    const old = { ...results(), schema: 1, revocation: { revocations: 20, p50_ms: 5, p99_ms: 40, max_ms: 60, timeouts: 0 } };
    expect(() => parseResults(JSON.stringify(old), "published.json")).toThrow(/published.json has results schema 1/);
  });
});

describe("the CI check of bench/results.json", () => {
  it("finds nothing wrong when every scenario has finite positive ratios", () => {
    expect(resultsProblems(results())).toEqual([]);
  });

  it("names a missing scenario", () => {
    const missing = results();
    delete missing.scenarios["authorize-deny-unknown"];
    expect(resultsProblems(missing)).toEqual(["authorize-deny-unknown: missing"]);
  });

  it("names a ratio that is not a finite positive number, as JSON writes NaN (null)", () => {
    const broken = results();
    broken.scenarios["check-redis-opaque"]!.throughput_ratio = null as unknown as number;
    broken.scenarios["authorize-redis-opaque"]!.p99_ratio = 0;
    expect(resultsProblems(broken)).toEqual(["check-redis-opaque: throughput_ratio is null", "authorize-redis-opaque: p99_ratio is 0"]);
  });

  it("names every kind of revocation that was not measured", () => {
    const partial = results() as Partial<BenchResults>;
    delete partial.revocation;
    expect(resultsProblems(partial as BenchResults)).toEqual(REVOCATION_KINDS.map((kind) => `revocation ${kind}: missing`));
    const oneShort = results();
    oneShort.revocation = oneShort.revocation!.filter((measured) => measured.kind !== "team-deactivation");
    expect(resultsProblems(oneShort)).toEqual(["revocation team-deactivation: missing"]);
  });

  it("names a missing memory step, and one without RSS samples", () => {
    const partial = results();
    delete partial.distinct_tokens_memory;
    expect(resultsProblems(partial)).toEqual(["distinct_tokens_memory: missing"]);
    const unsampled = results();
    unsampled.distinct_tokens_memory = { ...unsampled.distinct_tokens_memory!, rss_samples: [] };
    expect(resultsProblems(unsampled)).toEqual(["distinct_tokens_memory: rss_samples are []"]);
  });

  it("names missing in-process measurements, and a cost that is not a finite positive number", () => {
    const partial = results();
    delete partial.in_process;
    expect(resultsProblems(partial)).toEqual(["in_process: missing"]);
    const broken = results();
    broken.in_process![0] = { ...broken.in_process![0]!, baseline_ns_per_op: 0, ratio: null as unknown as number };
    expect(resultsProblems(broken)).toEqual(["in_process warm-verified-jwt-decision: baseline_ns_per_op is 0", "in_process warm-verified-jwt-decision: ratio is null"]);
  });
});

describe("BENCHMARKS.md from the results", () => {
  it("marks each target met, or missed by how much", () => {
    const slow = results();
    slow.scenarios["check-redis-opaque"] = withRatios(measurement(20_000, 0.6, 5, 1.2), raw);
    const rows = targetRows(slow).filter((row) => row.target.startsWith("check-redis-opaque"));
    expect(rows.map((row) => row.verdict)).toEqual(["missed by 0.20×", "missed by p99 +0.50×", "missed by p99 +0.50×", "missed by 1.200"]);
    expect(targetRows(results()).filter((row) => !row.verdict.startsWith("judge")).every((row) => row.verdict === "met")).toBe(true);
  });

  it("marks each kind of revocation against 100 ms at p99, a give-up counting as a miss", () => {
    const slow = results();
    slow.revocation![1] = { ...slow.revocation![1]!, p99_ms: 130 };
    slow.revocation![2] = { ...slow.revocation![2]!, timeouts: 2 };
    const rows = targetRows(slow).filter((row) => row.target.includes("→ deny on B"));
    expect(rows.map((row) => [row.target.split(" ")[0], row.verdict])).toEqual([
      ["opaque-token-revoke", "met"],
      ["team-token-rotation", "missed by 30.00 ms"],
      ["team-deactivation", "missed by 2 revocations B never denied"],
      ["signing-key-retirement", "met"],
    ]);
    expect(revocationTable(slow).split("\n")).toHaveLength(2 + REVOCATION_KINDS.length);
  });

  it("marks an in-process cost with a target against it, and leaves one without a target unjudged", () => {
    const costly = results();
    costly.in_process = [
      { ...costly.in_process![0]!, ratio: 0.08 },
      { ...costly.in_process![0]!, name: "another-cost", target_ratio: undefined },
    ];
    expect(targetRows(costly).filter((row) => row.target.startsWith("in-process"))).toEqual([
      { target: "in-process warm-verified-jwt-decision: ≤ 5% of an RS256 verification", measured: "8.0%", verdict: "missed by 3.0 percentage points" },
    ]);
    const lines = inProcessLines(costly).split("\n");
    expect(lines[0]).toContain("1500 ns of CPU per operation against 50000 ns for an RS256 verification, 8.0% (wall time 1800 against 70000 ns");
    expect(lines[1]).not.toContain("target");
  });

  it("shows the memory step's RSS samples, its peak and the negative cache's bound, and the growth over the second half", () => {
    const line = distinctTokensLine(results());
    expect(line).toContain("decided 1,000,000 distinct unknown tokens in 200.0 s");
    expect(line).toContain("RSS: 200 MiB after 0, 210 MiB after 100,000, 220 MiB after 500,000, 220 MiB after 1,000,000; peak 230 MiB");
    expect(line).toContain("10,000 entries, each kept 1,000 ms");
    const row = targetRows(results()).find((each) => each.target.startsWith("memory bounded"));
    expect(row?.measured).toBe("1,000,000 tokens: RSS 200 → 220 MiB, peak 230 MiB; 0.0 MiB over the second half");
  });

  it("says when the time bound cut the memory step short of its target", () => {
    const cut = results();
    cut.distinct_tokens_memory = { ...cut.distinct_tokens_memory!, tokens: 600_000 };
    expect(distinctTokensLine(cut)).toContain("600,000 distinct unknown tokens (the 360 s bound came before the 1,000,000 of the target)");
  });

  it("replaces only what lies between the markers", () => {
    const document = `# Benchmarks\n\nprose before\n\n${BEGIN_MARKER}\nold table\n${END_MARKER}\n\nprose after\n`;
    const updated = replaceGeneratedSection(document, benchmarksSection(results()));
    expect(updated.startsWith("# Benchmarks\n\nprose before\n\n")).toBe(true);
    expect(updated.endsWith("\n\nprose after\n")).toBe(true);
    expect(updated).not.toContain("old table");
    expect(updated).toContain("| authorize-redis-team-jwt | h2load | 30,000 | 0.75× |");
  });

  it("refuses a document without the markers", () => {
    expect(() => replaceGeneratedSection("# Benchmarks\n", "table")).toThrow(/markers/);
  });
});

describe("the decisions a scenario must produce", () => {
  it("accept the expected share of allows", () => {
    expect(unexpectedDecisions({ allow: 800, deny: 200, failed: 0 }, 0.8, 1000)).toBeUndefined();
  });

  it("refuse calls without a decision, too few decisions, and the wrong share", () => {
    expect(unexpectedDecisions({ allow: 1000, deny: 0, failed: 3 }, 1, 1000)).toMatch(/3 calls got no decision/);
    expect(unexpectedDecisions({ allow: 10, deny: 0, failed: 0 }, 1, 1000)).toMatch(/only 10 decisions/);
    expect(unexpectedDecisions({ allow: 0, deny: 1000, failed: 0 }, 1, 1000)).toMatch(/0.0% allowed, expected 100%/);
  });
});
