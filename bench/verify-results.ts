/**
 * CI's check of a bench run (`npm test` runs it after `npm run bench -- --quick`):
 * bench/results.json exists, names every scenario and every kind of
 * revocation, and every ratio (to the raw no-op, and of each in-process
 * cost to its baseline) is a finite positive number. No speed is asserted.
 *
 *   tsx bench/verify-results.ts [bench/results.json]
 */
import { readFileSync } from "node:fs";
import { parseResults, resultsProblems, REVOCATION_KINDS, SCENARIO_NAMES } from "./results.js";

const path = process.argv[2] ?? "bench/results.json";
const problems = resultsProblems(parseResults(readFileSync(path, "utf8"), path));
if (problems.length > 0) {
  console.error(`${path} is incomplete:\n${problems.map((problem) => `  ${problem}`).join("\n")}`);
  process.exit(1);
}
console.log(`${path}: all ${SCENARIO_NAMES.length} scenarios and ${REVOCATION_KINDS.length} kinds of revocation, every ratio and in-process cost finite and positive`);
