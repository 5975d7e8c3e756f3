/**
 * Regenerates the generated section of BENCHMARKS.md from a results file
 * without running anything (`npm run bench -- --write-markdown` runs and
 * writes in one go).
 *
 *   tsx bench/write-markdown.ts [bench/published-results.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { benchmarksSection, replaceGeneratedSection } from "./results-markdown.js";
import type { BenchResults } from "./results.js";

const path = process.argv[2] ?? "bench/published-results.json";
const results = JSON.parse(readFileSync(path, "utf8")) as BenchResults;
// Schema 1 had one revocation figure and no in-process section: its section would be wrong, not merely shorter.
if (results.schema !== 2) throw new Error(`${path} has results schema ${results.schema}; this bench writes schema 2: run it again to regenerate`);
writeFileSync("BENCHMARKS.md", replaceGeneratedSection(readFileSync("BENCHMARKS.md", "utf8"), benchmarksSection(results)));
console.log(`BENCHMARKS.md regenerated from ${path}`);
