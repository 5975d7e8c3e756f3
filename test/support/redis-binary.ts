import { spawnSync } from "node:child_process";

/**
 * The test run starts a redis-server of its own; without the binary nothing
 * Redis-backed can run, so the run stops before anything else with the one
 * command that fixes it.
 */
export function exitUnlessRedisServerInstalled(): void {
  if (spawnSync("redis-server", ["--version"], { stdio: "ignore" }).error === undefined) return;
  process.stderr.write(
    "The tests start a private redis-server, and none is installed. Install it (Debian/Ubuntu): sudo apt-get install redis-server\n",
  );
  process.exit(1);
}
