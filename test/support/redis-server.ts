import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { tracked } from "./spawned-processes.js";

/**
 * A redis-server of its own on a free port: the one the test run shares
 * (test/support/redis-global-setup.ts), and one per test that stops or
 * freezes Redis (the shared one is never stopped). Data is kept in an
 * append-only file, so a stop and start behaves like a Redis restart, not a
 * wipe.
 */
export interface OwnRedis {
  readonly url: string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
  /** SIGKILL and wait for the exit: a crash, with no chance to finish anything. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data dir. */
  start(): Promise<void>;
  /** Freezes the process (SIGSTOP): connections stay open, nothing answers. */
  freeze(): void;
  /** Lets a frozen process run again (SIGCONT). */
  thaw(): void;
  /** Stops it and removes its data. */
  dispose(): Promise<void>;
}

/** Serve TLS only (`rediss://`), with this certificate; clients need not present one. */
export interface OwnRedisTls {
  cert: string;
  key: string;
  /** redis-server insists on a CA file even when it asks clients for no certificate. */
  ca: string;
}

export interface OwnRedisOptions {
  tls?: OwnRedisTls;
  /** More redis-server arguments, e.g. `["--enable-debug-command", "local"]` for DEBUG SLEEP. */
  args?: string[];
}

export async function startOwnRedis(options: OwnRedisOptions = {}): Promise<OwnRedis> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "portcullis-redis-"));
  let child: ChildProcess | undefined;
  const { tls, args = [] } = options;
  const listening =
    tls === undefined
      ? ["--port", String(port)]
      : ["--port", "0", "--tls-port", String(port), "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no"];

  async function start(): Promise<void> {
    child = await launchRedisServer([...listening, "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "yes", ...args]);
  }

  async function end(signal: "SIGTERM" | "SIGKILL"): Promise<void> {
    const running = child;
    child = undefined;
    await stopProcess(running, signal);
  }
  const stop = () => end("SIGTERM");

  await start();
  return {
    url: `${tls === undefined ? "redis" : "rediss"}://127.0.0.1:${port}`,
    start,
    stop,
    kill: () => end("SIGKILL"),
    freeze: () => child?.kill("SIGSTOP"),
    thaw: () => child?.kill("SIGCONT"),
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Spawns `redis-server` with these arguments (tracked, so it dies with the
 * test file) and answers once it logs `ready` ("Ready to accept
 * connections"; a sentinel logs its id instead). Its log keeps draining so a
 * full pipe never stalls it.
 */
export async function launchRedisServer(args: string[], ready = "Ready to accept connections"): Promise<ChildProcess> {
  const started = tracked(spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] }));
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) {
        started.stdout?.off("data", onData);
        started.off("exit", onExit);
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`redis-server exited with ${code}:\n${output}`));
    started.stdout?.on("data", onData);
    started.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
    started.once("exit", onExit);
  });
  started.stdout?.resume();
  return started;
}

/** SIGTERMs (or SIGKILLs) a process and waits for its exit. */
export async function stopProcess(running: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
  if (running === undefined || running.exitCode !== null || running.signalCode !== null) return;
  running.kill("SIGCONT");
  const exited = new Promise((resolve) => running.once("exit", resolve));
  running.kill(signal);
  await exited;
}

/** A TCP port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
