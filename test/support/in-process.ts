import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { startPortcullis, type StartOptions, type RunningPortcullis } from "../../src/app.js";
import { systemClock, type Clock } from "../../src/clock.js";
import { loadConfig } from "../../src/config.js";

export interface InProcessPortcullis {
  readonly url: string;
  readonly running: RunningPortcullis;
  /** Every log line written so far. */
  output(): string;
  rootToken(): Promise<string>;
  /** Stops it; a data dir this helper made is removed. */
  stop(): Promise<void>;
}

/**
 * Starts Portcullis in this process from environment-style settings, logs
 * captured; `clock` lets a test move time, `options` replaces configured
 * parts (an in-memory span exporter).
 */
export async function startInProcess(env: Record<string, string>, clock: Clock = systemClock, options: StartOptions = {}): Promise<InProcessPortcullis> {
  const dataDir = env.PORTCULLIS_DATA_DIR ?? (await mkdtemp(join(tmpdir(), "portcullis-test-")));
  const fullEnv = { PORTCULLIS_LISTEN: "127.0.0.1:0", PORTCULLIS_DATA_DIR: dataDir, ...env };
  const config = loadConfig(fullEnv);
  let output = "";
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      output += chunk.toString();
      done();
    },
  });
  const ownDataDir = env.PORTCULLIS_DATA_DIR === undefined;
  const removeOwnDataDir = async () => {
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
  };
  const running = await startPortcullis(config, pino({ level: "debug" }, sink), clock, { ...options, reloadEnv: fullEnv }).catch(async (error: unknown) => {
    await removeOwnDataDir();
    throw error;
  });
  return {
    url: `http://127.0.0.1:${running.listener.address.port}`,
    running,
    output: () => output,
    rootToken: async () => (await readFile(join(dataDir, "root.token"), "utf8")).trim(),
    async stop() {
      await running.stop();
      await removeOwnDataDir();
    },
  };
}
