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

  it("divide the measured median by the baseline's median", () => {
    expect(costRatio([2000, 1000, 1500], [50_000, 40_000, 60_000])).toEqual({ ns_per_op: 1500, baseline_ns_per_op: 50_000, ratio: 0.03 });
  });

  it("refuse a figure from no batch at all", () => {
    expect(() => medianNs([])).toThrow(/no values/);
  });
});
