import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createReadinessMonitor } from "../../src/api/readiness-monitor.js";

const INTERVAL_MS = 1000;

/** A readiness check that counts its calls and fails while `down` is set. */
function countedReadiness() {
  const state = { calls: 0, down: false };
  const ready = async () => {
    state.calls += 1;
    if (state.down) throw new Error("store unreachable");
  };
  return { state, ready };
}

describe("the shared readiness monitor", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("checks once per interval however many watchers listen, and not at all when none do", async () => {
    const { state, ready } = countedReadiness();
    const monitor = createReadinessMonitor(ready, { intervalMs: INTERVAL_MS, cacheMs: INTERVAL_MS });
    const seen: boolean[][] = Array.from({ length: 10 }, () => []);
    const stops = seen.map((results) => monitor.watch((result) => results.push(result)));

    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(state.calls).toBe(5);
    for (const results of seen) expect(results).toEqual([true, true, true, true, true]);

    for (const stop of stops) stop();
    await vi.advanceTimersByTimeAsync(5 * INTERVAL_MS);
    expect(state.calls).toBe(5);
  });

  it("tells watchers when readiness changes", async () => {
    const { state, ready } = countedReadiness();
    const monitor = createReadinessMonitor(ready, { intervalMs: INTERVAL_MS, cacheMs: INTERVAL_MS });
    const results: boolean[] = [];
    const stop = monitor.watch((result) => results.push(result));
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    state.down = true;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    state.down = false;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    stop();
    expect(results).toEqual([true, false, true]);
  });

  it("runs one poll loop when the last watcher leaves and a new one comes during a check", async () => {
    let calls = 0;
    let release = () => {};
    const ready = () => {
      calls += 1;
      return calls === 1 ? new Promise<void>((resolve) => (release = resolve)) : Promise.resolve();
    };
    const monitor = createReadinessMonitor(ready, { intervalMs: INTERVAL_MS, cacheMs: INTERVAL_MS });
    const stopFirst = monitor.watch(() => {});
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    // The first loop's check is in flight now.
    stopFirst();
    const stop = monitor.watch(() => {});
    release();
    await vi.advanceTimersByTimeAsync(3 * INTERVAL_MS);
    stop();
    expect(calls).toBe(1 + 3);
  });

  it("shares one check between concurrent askers", async () => {
    const { state, ready } = countedReadiness();
    const monitor = createReadinessMonitor(ready, { intervalMs: INTERVAL_MS, cacheMs: 0 });
    expect(await Promise.all([monitor.isReady(), monitor.isReady(), monitor.isReady()])).toEqual([true, true, true]);
    expect(state.calls).toBe(1);
    state.down = true;
    expect(await monitor.isReady()).toBe(false);
    expect(state.calls).toBe(2);
  });
});
