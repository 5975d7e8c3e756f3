import { afterAll } from "vitest";
import { killSpawned } from "./spawned-processes.js";

// Runs after each test file's own teardown (hooks unwind as a stack): whatever it
// did not stop, because a timeout cut off a start or a stop, dies here.
afterAll(killSpawned);
// A worker that exits without its teardown (a crash, a cancelled run) leaves no orphans either.
process.once("exit", killSpawned);
