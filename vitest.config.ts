import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The reliability campaign has its own config and run (vitest.reliability.config.ts).
    exclude: [...configDefaults.exclude, "test/reliability/**"],
    globalSetup: ["./test/support/redis-global-setup.ts"],
    // Kills every process a test helper spawned and the file's teardown did not stop.
    setupFiles: ["./test/support/kill-spawned-setup.ts"],
    reporters: ["default", "./test/support/summary-reporter.ts"],
    pool: "forks",
    // Integration tests start server processes; two cores run two files at once at most.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
