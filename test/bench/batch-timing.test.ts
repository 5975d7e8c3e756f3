import { describe, expect, it } from "vitest";
import { costRatio, medianNs } from "../../bench/batch-timing.js";

describe("costs from timed batches", () => {
  it("take the median batch, so one slow batch does not move the figure", () => {
    expect(medianNs([1200, 1000, 90_000, 1100, 1050])).toBe(1100);
  });

  it("leave the batches as they were measured", () => {
    const batches = [3, 1, 2];
    medianNs(batches);
    expect(batches).toEqual([3, 1, 2]);
  });

  it("divide the measured CPU median by the baseline's, and keep both wall medians beside them", () => {
    const measured = { cpuNs: [2000, 1000, 1500], wallNs: [9000, 2000, 2500] };
    const baseline = { cpuNs: [50_000, 40_000, 60_000], wallNs: [70_000, 80_000, 90_000] };
    expect(costRatio(measured, baseline)).toEqual({ ns_per_op: 1500, baseline_ns_per_op: 50_000, ratio: 0.03, wall_ns_per_op: 2500, baseline_wall_ns_per_op: 80_000 });
  });

  it("refuse a figure from no batch at all", () => {
    expect(() => medianNs([])).toThrow(/no values/);
  });
});
