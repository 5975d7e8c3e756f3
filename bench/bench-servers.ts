/**
 * The processes under test, each on its own: a private redis-server, the
 * Portcullis server (Redis store or embedded store) and the raw node:http2
 * no-op. The bench only starts, describes and stops them.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { stringify } from "yaml";
import { startPortcullisProcess, type PortcullisProcess } from "../test/support/portcullis-process.js";
import { tracked } from "../test/support/spawned-processes.js";
import { compileScript } from "./compiled-script.js";

export interface ServerUnderTest {
  url: string;
  pid: number;
  stop(): Promise<unknown>;
}

/** The raw no-op in a process of its own, so it gets a core the way the server does. */
export async function startRawNoOp(workDir: string): Promise<ServerUnderTest> {
  const script = await compileScript("bench/raw-no-op-server.ts", workDir);
  const child = tracked(spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "inherit"] }));
  const port = await new Promise<string>((resolve, reject) => {
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening (\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.once("exit", (code) => reject(new Error(`the raw no-op exited with ${code}: ${output}`)));
  });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: async () => {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

export interface PortcullisOptions {
  /** Unset: the embedded store in a data dir of its own. */
  redisUrl?: string;
  redisPrefix: string;
  rootToken: string;
  /** The configuration file's content. */
  config: object;
  workDir: string;
  name: string;
  nodeArgs?: string[];
}

/**
 * The heap limit deploy/kubernetes/base/deployment.yaml gives every replica,
 * so that the figures, RSS above all, are those of the deployed process:
 * without it V8 sizes the heap from this machine's memory and lets garbage
 * grow to gigabytes before collecting in earnest.
 */
const DEPLOYED_HEAP_LIMIT = "--max-old-space-size=256";

export async function startPortcullis(options: PortcullisOptions): Promise<PortcullisProcess & ServerUnderTest> {
  const configPath = join(options.workDir, `${options.name}.yaml`);
  await writeFile(configPath, stringify(options.config));
  const server = await startPortcullisProcess({
    nodeArgs: [DEPLOYED_HEAP_LIMIT, ...(options.nodeArgs ?? [])],
    // Every denial is a log line: a million of them would otherwise pile up in the bench's memory.
    outputTail: 256 * 1024,
    dataDir: options.redisUrl === undefined ? await mkdtemp(join(options.workDir, `${options.name}-data-`)) : undefined,
    env: {
      PORTCULLIS_CONFIG: configPath,
      PORTCULLIS_ROOT_TOKENS: options.rootToken,
      // Production's level: decisions are logged at debug.
      PORTCULLIS_LOG_LEVEL: "info",
      ...(options.redisUrl === undefined ? {} : { REDIS_URL: options.redisUrl, PORTCULLIS_REDIS_PREFIX: options.redisPrefix }),
    },
  });
  return Object.assign(server, { pid: server.child.pid! });
}

export function redisServerVersion(): string | undefined {
  const result = spawnSync("redis-server", ["--version"], { encoding: "utf8" });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
