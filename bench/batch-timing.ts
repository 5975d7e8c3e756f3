/**
 * Cost per operation from batches timed in this process: each batch runs
 * an operation back to back, and the median batch is the figure, so one
 * batch slowed by a collection or a neighbour does not move it.
 */
import { percentile } from "./latency-log.js";

/** ns per operation of each batch. */
export type BatchTimes = number[];

/** Times `batches` batches of `iterations` calls of each operation, the operations taking turns batch by batch so drift hits both alike. */
export async function timeBatches(operations: (() => Promise<unknown>)[], iterations: number, batches: number): Promise<BatchTimes[]> {
  const times: BatchTimes[] = operations.map(() => []);
  for (let batch = 0; batch < batches; batch++) {
    for (const [index, operation] of operations.entries()) {
      const began = process.hrtime.bigint();
      for (let call = 0; call < iterations; call++) await operation();
      times[index]!.push(Number(process.hrtime.bigint() - began) / iterations);
    }
  }
  return times;
}

/** The median batch's ns per operation. */
export function medianNs(times: BatchTimes): number {
  return percentile([...times].sort((x, y) => x - y), 50);
}

/** A cost against its baseline: both medians, and their ratio. */
export function costRatio(times: BatchTimes, baselineTimes: BatchTimes): { ns_per_op: number; baseline_ns_per_op: number; ratio: number } {
  const ns = medianNs(times);
  const baseline = medianNs(baselineTimes);
  return { ns_per_op: ns, baseline_ns_per_op: baseline, ratio: ns / baseline };
}
