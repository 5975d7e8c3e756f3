import { fileURLToPath } from "node:url";
import { startPortcullisProcess, type PortcullisProcess, type StartOptions } from "./portcullis-process.js";
import { TEST_REDIS_URL, testRedisPrefix } from "./redis.js";

export type Backend = "embedded" | "redis";
export const BACKENDS: readonly Backend[] = ["embedded", "redis"];

/** The example configuration shipped in deploy/, so that tests keep it valid. */
export const EXAMPLE_CONFIG = fileURLToPath(new URL("../../deploy/portcullis.example.yaml", import.meta.url));

/**
 * Starts a server process on `backend`. On Redis it gets a key prefix of its
 * own, removed again by `stop()`.
 */
export async function startOnBackend(backend: Backend, options: StartOptions = {}): Promise<PortcullisProcess> {
  if (backend === "embedded") return startPortcullisProcess(options);
  const { prefix, cleanup } = testRedisPrefix();
  try {
    const server = await startPortcullisProcess({
      ...options,
      env: { REDIS_URL: TEST_REDIS_URL, PORTCULLIS_REDIS_PREFIX: prefix, ...options.env },
    });
    return {
      ...server,
      async stop() {
        const code = await server.stop();
        await cleanup();
        return code;
      },
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}
