/**
 * Issue 12's memory bound, a step of its own: the Redis-backed server
 * decides a great many tokens it has never seen, sent as fast as several
 * load-client processes can, and its RSS is read at the start, each time
 * another tenth of the target is decided, and at the end, beside the peak
 * and the negative cache's configured bound. A bound on the step's length
 * keeps the whole run's length bounded: on a slow machine the step reports
 * how many tokens it got through.
 */
import { runLoad, type LoadFiles, type LoadTarget } from "./load-generator.js";
import { cpuSeconds, memoryStatus, resetPeakRss } from "./proc-stats.js";
import type { DistinctTokensMemory, RssSample } from "./results.js";
import { countsDelta, decisionCounts, unexpectedDecisions } from "./server-decisions.js";

export interface DistinctTokensSettings {
  tokens: number;
  maxSeconds: number;
  loadClients: number;
  /** Connections and streams of each load client. */
  clients: number;
  streams: number;
}

/** How often the server's decision count is read to see whether another tenth was reached. */
const POLL_MS = 200;

/**
 * Calls that may get no decision without failing the step: minutes of
 * overload on a crowded machine can push the odd Redis read past its
 * deadline, which the server answers with an error (failing closed). The
 * step reports them; more than this share measures a failing server.
 */
const FAILED_SHARE = 0.001;

export async function measureDistinctTokensMemory(
  server: { url: string; pid: number },
  /** A target that writes a fresh token into every request. */
  target: LoadTarget,
  negativeCache: { maxEntries: number; ttlMs: number },
  settings: DistinctTokensSettings,
  files: LoadFiles,
): Promise<DistinctTokensMemory> {
  const tenth = settings.tokens / 10;
  const before = await decisionCounts(server.url);
  const perStepPeak = resetPeakRss(server.pid);
  const cpuBefore = cpuSeconds(server.pid);
  const began = performance.now();
  const sample = (tokens: number): RssSample => ({ tokens, seconds: (performance.now() - began) / 1000, rss_bytes: memoryStatus(server.pid).rssBytes });
  const samples = [sample(0)];

  let nextTenth = 1;
  let polling = Promise.resolve();
  const poll = async () => {
    const decided = countsDelta(before, await decisionCounts(server.url)).deny;
    if (decided < nextTenth * tenth) return;
    samples.push(sample(decided));
    nextTenth = Math.floor(decided / tenth) + 1;
  };
  // One read at a time: a slow /metrics answer must not stack reads up. A
  // failed read (an overloaded server's HTTP/1.1 keep-alive race) only skips
  // a sample: the count read after the load says whether the server lived.
  const poller = setInterval(() => (polling = polling.then(poll).catch(() => undefined)), POLL_MS);

  const perClient = Math.ceil(settings.tokens / settings.loadClients);
  const shape = { clients: settings.clients, streams: settings.streams, requests: perClient, seconds: settings.maxSeconds };
  let sent = 0;
  let failed = 0;
  try {
    const runs = await Promise.all(Array.from({ length: settings.loadClients }, () => runLoad("node-load-client", target, shape, files, FAILED_SHARE)));
    sent = runs.reduce((sum, run) => sum + run.summary.done, 0);
    failed = runs.reduce((sum, run) => sum + run.summary.failed + run.summary.errored + run.summary.timeout, 0);
  } finally {
    clearInterval(poller);
    await polling;
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = cpuSeconds(server.pid) - cpuBefore;
  const decided = countsDelta(before, await decisionCounts(server.url));
  // An unknown token allowed even once is a bug, not noise.
  const problem = decided.allow > 0 ? `${decided.allow} unknown tokens allowed` : unexpectedDecisions({ ...decided, failed: 0 }, 0, Math.floor((sent - failed) * 0.99));
  if (problem !== undefined) throw new Error(`distinct tokens: ${problem}`);
  const tokens = decided.deny;
  if (samples[samples.length - 1]!.tokens < tokens) samples.push(sample(tokens));
  return {
    description: `Authorize, gRPC, a fresh random opaque token per request (deny), Redis store, from ${settings.loadClients} load clients at once`,
    target_tokens: settings.tokens,
    max_seconds: settings.maxSeconds,
    load_clients: settings.loadClients,
    tokens,
    failed,
    seconds,
    rate: tokens / seconds,
    server_cores: cpu / seconds,
    cpu_seconds_per_10k: (cpu / tokens) * 10_000,
    negative_max_entries: negativeCache.maxEntries,
    negative_ttl_ms: negativeCache.ttlMs,
    rss_samples: samples,
    peak_rss_bytes: memoryStatus(server.pid).peakRssBytes,
    peak_rss_per_step: perStepPeak,
  };
}
