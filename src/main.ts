import type { Logger } from "pino";
import { startPortcullis, type RunningPortcullis } from "./app.js";
import { loadConfig } from "./config.js";
import { PortcullisError } from "./errors.js";
import { createLogger } from "./log.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  let running: RunningPortcullis | undefined;
  // Installed before the start: Node's default for SIGHUP ends the process.
  process.on("SIGHUP", () => reloadOnSignal(running, log));
  running = await startPortcullis(config, log, undefined, { reloadEnv: process.env });
  let stopping = false;
  const stop = (cause: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ cause }, "shutting down: finishing in-flight calls");
    running.stop().then(
      () => {
        log.info("stopped");
        process.exit(exitCode);
      },
      (error: unknown) => {
        log.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM", 0));
  process.on("SIGINT", () => stop("SIGINT", 0));
  // Stops rather than staying up read-only: decisions from memory would miss
  // revocations another process now writes. Exits non-zero so a supervisor
  // restarts it: a new start takes the lock again or says who holds it.
  void running.failure.then((error) => {
    log.error(`${error.message}; refusing writes and stopping`);
    stop("failure", 1);
  });
}

/**
 * SIGHUP reloads the configuration file and the TLS files, and never ends
 * the process; each reload logs its own outcome.
 */
function reloadOnSignal(running: RunningPortcullis | undefined, log: Logger): void {
  if (running === undefined) {
    log.info("SIGHUP while starting: ignored; the configuration being started with is read already");
    return;
  }
  void running.reload("signal");
  void running.reloadTls();
}

main().catch((error: unknown) => {
  const message = error instanceof PortcullisError ? error.message : String(error);
  process.stderr.write(`portcullis: cannot start: ${message}\n`);
  process.exit(1);
});
