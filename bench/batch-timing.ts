/**
 * Cost per operation from batches timed in this process: each batch runs
 * an operation back to back, and the median batch is the figure, so one
 * batch slowed by a collection or a neighbour does not move it. Both the
 * CPU time of the process (every thread: libuv's pool and the garbage
 * collector's count) and the wall time are taken; the CPU time is the
 * cost, which a crowded machine stretches far less than the wall time.
 */
import { percentile } from "./latency-log.js";

/** ns per operation of each batch. */
export interface BatchTimes {
  cpuNs: number[];
  wallNs: number[];
}

/** Times `batches` batches of `iterations` calls of each operation, the operations taking turns batch by batch so drift hits both alike. */
export async function timeBatches(operations: (() => Promise<unknown>)[], iterations: number, batches: number): Promise<BatchTimes[]> {
  const times: BatchTimes[] = operations.map(() => ({ cpuNs: [], wallNs: [] }));
  for (let batch = 0; batch < batches; batch++) {
    for (const [index, operation] of operations.entries()) {
      const cpuBefore = process.cpuUsage();
      const wallBefore = process.hrtime.bigint();
      for (let call = 0; call < iterations; call++) await operation();
      const wall = Number(process.hrtime.bigint() - wallBefore);
      const cpu = process.cpuUsage(cpuBefore);
      times[index]!.wallNs.push(wall / iterations);
      times[index]!.cpuNs.push(((cpu.user + cpu.system) * 1000) / iterations);
    }
  }
  return times;
}

/** The median of per-batch figures. */
export function medianNs(perBatch: readonly number[]): number {
  return percentile([...perBatch].sort((x, y) => x - y), 50);
}

/** A cost against its baseline: CPU medians and their ratio, and the wall medians beside them. */
export function costRatio(
  times: BatchTimes,
  baselineTimes: BatchTimes,
): { ns_per_op: number; baseline_ns_per_op: number; ratio: number; wall_ns_per_op: number; baseline_wall_ns_per_op: number } {
  const ns = medianNs(times.cpuNs);
  const baseline = medianNs(baselineTimes.cpuNs);
  return { ns_per_op: ns, baseline_ns_per_op: baseline, ratio: ns / baseline, wall_ns_per_op: medianNs(times.wallNs), baseline_wall_ns_per_op: medianNs(baselineTimes.wallNs) };
}
