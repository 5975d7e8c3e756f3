/**
 * Reads the summary h2load prints (bench/load-client.ts prints the same
 * lines), so both generators are read by one parser.
 */
export interface LoadSummary {
  /** Wall time of the measured part, seconds. */
  seconds: number;
  /** Requests per second over the measured part. */
  rate: number;
  done: number;
  succeeded: number;
  failed: number;
  errored: number;
  timeout: number;
}

export function parseLoadSummary(output: string): LoadSummary {
  const finished = /finished in ([\d.]+)(us|ms|s), ([\d.]+) req\/s/.exec(output);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  if (finished === null || requests === null) throw new Error(`no h2load summary in the load generator's output:\n${output}`);
  const scale = { us: 1e-6, ms: 1e-3, s: 1 }[finished[2] as "us" | "ms" | "s"];
  return {
    seconds: Number(finished[1]) * scale,
    rate: Number(finished[3]),
    done: Number(requests[3]),
    succeeded: Number(requests[4]),
    failed: Number(requests[5]),
    errored: Number(requests[6]),
    timeout: Number(requests[7]),
  };
}
