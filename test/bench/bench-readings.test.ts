import { describe, expect, it } from "vitest";
import { topSelfTime } from "../../bench/cpu-profile.js";
import { parseLoadSummary } from "../../bench/h2load-output.js";
import { percentile, summarizeLatencyLog } from "../../bench/latency-log.js";
import { parseCpuSeconds, parseMemoryStatus } from "../../bench/proc-stats.js";
import { commandsDelta, parseCommandstats } from "../../bench/redis-commandstats.js";

/** Printed by h2load (nghttp2 1.52) for `-n 1000 -c 4 -m 8` against the raw no-op. */
const H2LOAD_OUTPUT = `starting benchmark...
spawning thread #0: 4 total client(s). 1000 total requests
Application protocol: h2c
progress: 100% done

finished in 241.88ms, 4134.25 req/s, 146.38KB/s
requests: 1000 total, 1000 started, 1000 done, 998 succeeded, 2 failed, 0 errored, 0 timeout
status codes: 1000 2xx, 0 3xx, 0 4xx, 0 5xx
traffic: 35.41KB (36256) total, 3.07KB (3140) headers (space savings 95.58%), 4.88KB (5000) data
                     min         max         mean         sd        +/- sd
time for request:      364us     73.07ms      7.47ms     10.28ms    95.20%
`;

describe("reading h2load's summary", () => {
  it("takes the rate, the duration in seconds and the request counts", () => {
    expect(parseLoadSummary(H2LOAD_OUTPUT)).toEqual({ seconds: 0.24188, rate: 4134.25, done: 1000, succeeded: 998, failed: 2, errored: 0, timeout: 0 });
  });

  it("reads the same lines from the node load client, durations in seconds", () => {
    const output = "finished in 1.50s, 2000.00 req/s\nrequests: 3000 total, 3000 started, 3000 done, 3000 succeeded, 0 failed, 0 errored, 0 timeout\n";
    expect(parseLoadSummary(output)).toMatchObject({ seconds: 1.5, rate: 2000, done: 3000 });
  });

  it("refuses output without a summary, quoting it", () => {
    expect(() => parseLoadSummary("connect: Connection refused")).toThrow(/Connection refused/);
  });
});

describe("latency percentiles from a --log-file", () => {
  it("are nearest-rank percentiles of the third column, in milliseconds", () => {
    // 1000 requests taking 1..1000 µs, one every millisecond.
    const log = Array.from({ length: 1000 }, (_, i) => `${1_700_000_000_000_000 + i * 1000}\t200\t${1000 - i}`).join("\n");
    expect(summarizeLatencyLog(log)).toEqual({ count: 1000, achievedRate: 1000, p50Ms: 0.5, p99Ms: 0.99, p999Ms: 0.999, maxMs: 1, non200: 0 });
  });

  it("count rows whose status was not 200", () => {
    expect(summarizeLatencyLog("1000000\t200\t500\n1001000\t503\t700\n").non200).toBe(1);
  });

  it("refuse an empty log and a garbled row", () => {
    expect(() => summarizeLatencyLog("\n")).toThrow(/empty/);
    expect(() => summarizeLatencyLog("start\tstatus\tmicros")).toThrow(/not a latency log row/);
  });

  it("of one value is that value at every rank", () => {
    expect([percentile([7], 50), percentile([7], 99.9)]).toEqual([7, 7]);
  });
});

describe("process readings from /proc", () => {
  it("CPU time is utime plus stime, even when the command name holds spaces and parentheses", () => {
    const stat = "4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 50 0 0 20 0 11 0 1000 0 0";
    expect(parseCpuSeconds(stat)).toBe(3);
  });

  it("memory is VmHWM and VmRSS in bytes", () => {
    const status = "Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t   2048 kB\nVmRSS:\t   1024 kB\n";
    expect(parseMemoryStatus(status)).toEqual({ peakRssBytes: 2048 * 1024, rssBytes: 1024 * 1024 });
  });
});

describe("Redis commands from INFO commandstats", () => {
  const before = parseCommandstats(
    "# Commandstats\r\ncmdstat_hgetall:calls=100,usec=500,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=3,usec=90,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r\n",
  );
  const after = parseCommandstats(
    "# Commandstats\r\ncmdstat_hgetall:calls=1100,usec=5500,usec_per_call=5.00,rejected_calls=0,failed_calls=0\r\ncmdstat_evalsha:calls=10,usec=90,usec_per_call=9.00,rejected_calls=0,failed_calls=0\r\ncmdstat_info:calls=5,usec=150,usec_per_call=30.00,rejected_calls=0,failed_calls=0\r\n",
  );

  it("are the calls each command gained, commands new since the first reading included", () => {
    expect(commandsDelta(before, after)).toEqual({ hgetall: 1000, evalsha: 10 });
  });

  it("leave out the bench's own INFO calls", () => {
    expect(commandsDelta(before, after)).not.toHaveProperty("info");
  });
});

describe("a CPU profile's top self time", () => {
  it("adds each sample's time to the function it landed in, largest first", () => {
    const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 9 });
    const profile = {
      startTime: 1_000_000,
      nodes: [
        { id: 1, callFrame: frame("(idle)") },
        { id: 2, callFrame: frame("decide", "file:///repo/src/decision/engine.ts") },
        { id: 3, callFrame: frame("hgetall", "file:///repo/node_modules/ioredis/built/Redis.js") },
      ],
      samples: [2, 2, 1, 3, 2],
      // A sample lasts until the next one.
      timeDeltas: [0, 1000, 1500, 2000, 500],
    };
    expect(topSelfTime(profile, { root: "file:///repo/" })).toEqual([
      { frame: "decide (src/decision/engine.ts:10)", selfMs: 2.5, share: 0.5 },
      { frame: "(idle)", selfMs: 2, share: 0.4 },
      { frame: "hgetall (ioredis/built/Redis.js:10)", selfMs: 0.5, share: 0.1 },
    ]);
  });

  it("counts only the samples taken inside a window of the monotonic clock", () => {
    const profile = {
      startTime: 1_000_000,
      nodes: [
        { id: 1, callFrame: { functionName: "startUp", url: "", lineNumber: 0 } },
        { id: 2, callFrame: { functionName: "decide", url: "", lineNumber: 0 } },
      ],
      // Samples at 1.000, 1.001 (start-up), then 1.500 and 1.501 s (the scenario).
      samples: [1, 1, 2, 2],
      timeDeltas: [0, 1000, 499_000, 1000],
    };
    expect(topSelfTime(profile, { window: { fromUs: 1_400_000, toUs: 2_000_000 } }).map((row) => row.frame)).toEqual(["decide"]);
  });
});
