/**
 * Regenerates the generated section of BENCHMARKS.md from a results file
 * without running anything (`npm run bench -- --write-markdown` runs and
 * writes in one go).
 *
 *   tsx bench/write-markdown.ts [bench/published-results.json]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { benchmarksSection, replaceGeneratedSection } from "./results-markdown.js";
import { parseResults } from "./results.js";

const path = process.argv[2] ?? "bench/published-results.json";
const results = parseResults(readFileSync(path, "utf8"), path);
writeFileSync("BENCHMARKS.md", replaceGeneratedSection(readFileSync("BENCHMARKS.md", "utf8"), benchmarksSection(results)));
console.log(`BENCHMARKS.md regenerated from ${path}`);
