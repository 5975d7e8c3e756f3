import { defineConfig } from "vitest/config";

/**
 * The reliability campaign (`npm run test:reliability`, started by
 * test/reliability/run.ts): faults, floods and bad inputs against real
 * processes. Kept out of the main run's include so it runs once, on its own.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    globalSetup: ["./test/support/redis-global-setup.ts"],
    setupFiles: ["./test/support/kill-spawned-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    pool: "forks",
    // The files measure latency under faults: one at a time keeps them from measuring each other.
    maxWorkers: 1,
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 60_000,
  },
});
