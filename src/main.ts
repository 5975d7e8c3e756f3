import { startPortcullis } from "./app.js";
import { loadConfig } from "./config.js";
import { PortcullisError } from "./errors.js";
import { createLogger } from "./log.js";

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = createLogger(config.logLevel);
  const running = await startPortcullis(config, log);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: finishing in-flight calls");
    running.stop().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (error: unknown) => {
        log.error({ err: error }, "unclean shutdown");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  const message = error instanceof PortcullisError ? error.message : String(error);
  process.stderr.write(`portcullis: cannot start: ${message}\n`);
  process.exit(1);
});
