import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { eventually } from "./eventually.js";
import { tracked } from "./spawned-processes.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

export interface PortcullisProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly child: ChildProcess;
  /** What the process wrote to stdout and stderr so far: everything, or the last `outputTail` characters. */
  output(): string;
  /** The bootstrap root token from <dataDir>/root.token. */
  rootToken(): Promise<string>;
  /** SIGTERM and wait for exit; resolves with the exit code. A data dir this helper made is removed. */
  stop(): Promise<number | null>;
}

export interface StartOptions {
  env?: Record<string, string>;
  dataDir?: string;
  /** Flags for node itself (e.g. `--cpu-prof`, which NODE_OPTIONS does not take). */
  nodeArgs?: string[];
  /**
   * Listen on this port (from `freePort()`) and wait until `/healthz`
   * answers, instead of for the start line: for a log level that does not
   * print it.
   */
  port?: number;
  /**
   * Keep only about this many of the last characters of output (unset:
   * everything): for a server that logs every decision through a long
   * load, whose whole output the test process would otherwise hold.
   */
  outputTail?: number;
}

function spawnPortcullis(dataDir: string, env: Record<string, string> = {}, nodeArgs: string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", "src/main.ts"], {
    cwd: REPO,
    env: {
      PATH: process.env.PATH ?? "",
      PORTCULLIS_LISTEN: "127.0.0.1:0",
      PORTCULLIS_DATA_DIR: dataDir,
      PORTCULLIS_LOG_LEVEL: "debug",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  return tracked(child);
}

/** Runs `src/main.ts` with settings it is expected to refuse: its exit code and what it wrote to stderr. */
export async function failedStart(env: Record<string, string>): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), "portcullis-test-"));
  const child = spawnPortcullis(dataDir, env);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  // "close", not "exit": only then has everything it wrote been read.
  const code = await new Promise<number | null>((resolve) => child.once("close", (exitCode) => resolve(exitCode)));
  clearTimeout(timer);
  await rm(dataDir, { recursive: true, force: true });
  return { code, stderr, stdout };
}

/** Starts `src/main.ts` as its own process on a free port and waits until it listens. */
export async function startPortcullisProcess(options: StartOptions = {}): Promise<PortcullisProcess> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "portcullis-test-")));
  const listenOn: Record<string, string> = options.port === undefined ? {} : { PORTCULLIS_LISTEN: `127.0.0.1:${options.port}` };
  const child = spawnPortcullis(dataDir, { ...options.env, ...listenOn }, options.nodeArgs);
  let output = "";
  const tail = options.outputTail;
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    // Cut at twice the tail, so the copy a cut makes costs a constant per character kept.
    if (tail !== undefined && output.length > 2 * tail) output = output.slice(-tail);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  // "close", not "exit": only then has everything it wrote been read, so output() is complete after stop().
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const code = await exited;
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    return code;
  };

  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`portcullis did not start:\n${output}`)), 30_000);
    const check = () => {
      const match = /"address":"([^"]+)","msg":"portcullis listening/.exec(output);
      if (match) {
        clearTimeout(timer);
        // Searched once found, it would scan the output again on every chunk for the process's whole life.
        child.stdout?.off("data", check);
        resolve(match[1]!);
      }
    };
    if (options.port === undefined) child.stdout?.on("data", check);
    else {
      const address = `127.0.0.1:${options.port}`;
      void eventually(() => answers(`http://${address}/healthz`), 30_000).then(() => {
        clearTimeout(timer);
        resolve(address);
      }, reject);
    }
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`portcullis exited with ${code}:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    // A start that timed out leaves no process or data dir behind.
    await stop();
    throw error;
  });

  return {
    url: `http://${address}`,
    dataDir,
    child,
    output: () => output,
    rootToken: async () => (await readFile(join(dataDir, "root.token"), "utf8")).trim(),
    stop,
  };
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}
