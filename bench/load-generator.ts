/**
 * Runs one load generator process against one target and reads what it
 * reports: h2load when installed, else bench/load-client.ts, which also
 * serves the scenarios that need a different body per request. Samples
 * the generator's own CPU use, so a run can tell when the generator rather
 * than the server was the limit.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { tracked } from "../test/support/spawned-processes.js";
import { parseLoadSummary, type LoadSummary } from "./h2load-output.js";
import { summarizeLatencyLog, type LatencySummary } from "./latency-log.js";
import { cpuSeconds } from "./proc-stats.js";

export type GeneratorName = "h2load" | "node-load-client";

export interface LoadTarget {
  url: string;
  path: string;
  headers: Record<string, string>;
  /** Requests cycle through these bodies (h2load takes exactly one). */
  bodies: Uint8Array[];
  /** A string in the bodies replaced per request by random base64url (load client only). */
  freshToken?: string;
}

export interface LoadShape {
  clients: number;
  streams: number;
  /** Timed run; or `requests` for a run of a fixed count; both (load client only): whichever comes first. */
  seconds?: number;
  requests?: number;
  /** Fixed total rate (req/s) with a per-request latency log. */
  rate?: number;
}

export interface LoadResult {
  summary: LoadSummary;
  /** The generator's CPU use over the run, in cores (1.0 = one core busy all the time). */
  generatorCores: number;
  latency?: LatencySummary;
}

export function h2loadInstalled(): boolean {
  return spawnSync("h2load", ["--version"], { stdio: "ignore" }).status === 0;
}

export function h2loadVersion(): string | undefined {
  const result = spawnSync("h2load", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

export interface LoadFiles {
  /** Where request bodies and latency logs go for the run. */
  workDir: string;
  /** bench/load-client.ts compiled to plain JavaScript (bench/compiled-script.ts). */
  loadClient: string;
}

/**
 * `failedShare`: the share of requests that may fail without failing the
 * run (default none), for a run that measures something other than the
 * answers, and reports its failures itself.
 */
export async function runLoad(
  generator: GeneratorName,
  target: LoadTarget,
  shape: LoadShape,
  { workDir, loadClient }: LoadFiles,
  failedShare = 0,
): Promise<LoadResult> {
  if (generator === "h2load" && (target.bodies.length !== 1 || target.freshToken !== undefined)) {
    throw new Error("h2load sends one fixed body; this target needs bench/load-client.ts");
  }
  if (generator === "h2load" && shape.seconds !== undefined && shape.requests !== undefined) {
    throw new Error("h2load runs for a duration or a count, not both");
  }
  const stem = join(workDir, randomBytes(6).toString("hex"));
  const bodyPaths = await Promise.all(
    target.bodies.map(async (body, index) => {
      const path = `${stem}-body-${index}.bin`;
      await writeFile(path, body);
      return path;
    }),
  );
  const logPath = shape.rate === undefined ? undefined : `${stem}-latency.log`;
  const args = [
    ...["-c", String(shape.clients), "-m", String(shape.streams)],
    ...(shape.seconds !== undefined ? ["-D", generator === "h2load" ? `${Math.round(shape.seconds * 1000)}ms` : String(shape.seconds)] : []),
    ...(shape.requests !== undefined ? ["-n", String(shape.requests)] : []),
    // Both generators take --rps per connection.
    ...(shape.rate !== undefined ? ["--rps", String(Math.max(1, Math.round(shape.rate / shape.clients)))] : []),
    ...(logPath !== undefined ? ["--log-file", logPath] : []),
    ...bodyPaths.flatMap((path) => ["-d", path]),
    ...(target.freshToken !== undefined ? ["--fresh-token", target.freshToken] : []),
    ...Object.entries(target.headers).flatMap(([name, value]) => ["-H", `${name}: ${value}`]),
    `${target.url}${target.path}`,
  ];
  const [command, commandArgs] =
    generator === "h2load" ? ["h2load", args] : [process.execPath, [loadClient, ...args]];
  try {
    const { output, generatorCores } = await runSampled(command, commandArgs);
    const summary = parseLoadSummary(output);
    if (summary.done === 0 || summary.failed + summary.errored + summary.timeout > failedShare * summary.done) {
      throw new Error(`${target.path}: requests failed:\n${output}`);
    }
    const latency = logPath === undefined ? undefined : summarizeLatencyLog(await readFile(logPath, "utf8"));
    return { summary, generatorCores, latency };
  } finally {
    await Promise.all([...bodyPaths, ...(logPath ? [logPath] : [])].map((path) => rm(path, { force: true })));
  }
}

/** Runs a process to its end, sampling its CPU time every 100 ms while it runs. */
function runSampled(command: string, commandArgs: string[]): Promise<{ output: string; generatorCores: number }> {
  return new Promise((resolve, reject) => {
    const child = tracked(spawn(command, commandArgs, { stdio: ["ignore", "pipe", "pipe"] }));
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const samples: { at: number; cpu: number }[] = [];
    const sampler = setInterval(() => {
      try {
        samples.push({ at: performance.now(), cpu: cpuSeconds(child.pid!) });
      } catch {
        // Exited between two samples.
      }
    }, 100);
    child.once("error", reject);
    child.once("close", (code) => {
      clearInterval(sampler);
      if (code !== 0) return reject(new Error(`${command} exited with ${code}:\n${output}`));
      // The first sample is skipped: it holds the generator's own start-up.
      const first = samples[Math.min(1, samples.length - 1)];
      const last = samples[samples.length - 1];
      const generatorCores = first && last && last.at > first.at ? (last.cpu - first.cpu) / ((last.at - first.at) / 1000) : 0;
      resolve({ output, generatorCores });
    });
  });
}
