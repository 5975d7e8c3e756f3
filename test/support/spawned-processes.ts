import type { ChildProcess } from "node:child_process";

/** Every process a test helper spawned that has not exited yet. */
const running = new Set<ChildProcess>();

/**
 * Tracks `child` from the moment it is spawned, so a start that a test or hook
 * timeout cuts off (before the helper handed the process to the test) is still
 * killed at the end of the file. Returns `child`.
 */
export function tracked<Child extends ChildProcess>(child: Child): Child {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/** SIGKILLs whatever tracked process is still running. Synchronous, so it also works from an exit handler. */
export function killSpawned(): void {
  for (const child of running) {
    // A frozen (SIGSTOPped) process dies of SIGKILL too.
    child.kill("SIGKILL");
    running.delete(child);
  }
}
