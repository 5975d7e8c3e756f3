import { configDefaults, defineConfig } from "vitest/config";
import { variant } from "./test/reliability/rows.js";

/**
 * Files only the long variant runs (`npm run test:reliability -- --long`):
 * the standard run does not collect them at all, so it reports nothing
 * skipped rather than a soak it never meant to run.
 */
const LONG_ONLY = ["test/reliability/soak.test.ts"];

/**
 * The reliability campaign (`npm run test:reliability`, started by
 * test/reliability/run.ts): faults, floods and bad inputs against real
 * processes. Kept out of the main run's include so it runs once, on its own.
 */
export default defineConfig({
  test: {
    include: ["test/reliability/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(variant() === "long" ? [] : LONG_ONLY)],
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
