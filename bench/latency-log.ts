/**
 * Latency percentiles from a per-request log in h2load's `--log-file`
 * format (bench/load-client.ts writes the same): tab-separated start time
 * (µs since the epoch), HTTP status, µs until the end of the response.
 */
export interface LatencySummary {
  /** Requests in the log. */
  count: number;
  /** Requests per second actually sent: count over the span of start times. */
  achievedRate: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
  /** Rows whose status was not 200. */
  non200: number;
}

export function summarizeLatencyLog(text: string): LatencySummary {
  const latencies: number[] = [];
  let first = Infinity;
  let last = -Infinity;
  let non200 = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    const [start, status, micros] = line.split("\t").map(Number);
    if (!Number.isFinite(start) || !Number.isFinite(micros)) throw new Error(`not a latency log row: ${line}`);
    latencies.push(micros! / 1000);
    first = Math.min(first, start!);
    last = Math.max(last, start!);
    if (status !== 200) non200++;
  }
  if (latencies.length === 0) throw new Error("the latency log is empty");
  latencies.sort((a, b) => a - b);
  const spanSeconds = (last - first) / 1e6;
  return {
    count: latencies.length,
    achievedRate: spanSeconds > 0 ? (latencies.length - 1) / spanSeconds : 0,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    p999Ms: percentile(latencies, 99.9),
    maxMs: latencies[latencies.length - 1]!,
    non200,
  };
}

/** Nearest-rank percentile of an ascending list: the smallest value with at least p% of the values at or below it. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new Error("percentile of no values");
  // The epsilon keeps float error (99.9% of 1000 = 999.0000000000001) from skipping a rank.
  const rank = Math.max(1, Math.ceil((p * sorted.length) / 100 - 1e-9));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}
