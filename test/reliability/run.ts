/**
 * `npm run test:reliability [-- --long] [--report] [files…]`: runs the
 * reliability campaign (vitest.reliability.config.ts), gathers the row each
 * test recorded (rows.ts), fails when any row holds a wrongful ALLOW, a lost
 * token or a leaked secret, and with `--report` writes RELIABILITY.md.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { reliabilityMarkdown } from "./report-markdown.js";
import { failingRows, readRows, ROWS_FILE_ENV, VARIANT_ENV } from "./rows.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));

const { values: args, positionals } = parseArgs({
  options: { long: { type: "boolean", default: false }, report: { type: "boolean", default: false } },
  allowPositionals: true,
});

const dir = mkdtempSync(join(os.tmpdir(), "portcullis-reliability-"));
const rowsFile = join(dir, "rows.jsonl");
const variant = args.long ? "long" : "standard";
const vitest = spawnSync(
  process.execPath,
  [join(REPO, "node_modules/vitest/vitest.mjs"), "run", "--config", "vitest.reliability.config.ts", ...positionals],
  { cwd: REPO, stdio: "inherit", env: { ...process.env, [ROWS_FILE_ENV]: rowsFile, [VARIANT_ENV]: variant } },
);
const rows = readRows(rowsFile);
rmSync(dir, { recursive: true, force: true });

const passed = vitest.status === 0;
const failing = failingRows(rows);
for (const row of failing) {
  process.stderr.write(`reliability: ${row.test}: wrongful ALLOWs ${row.wrongfulAllows}, tokens lost ${row.tokensLost}, secrets leaked ${row.secretsLeaked}\n`);
}
process.stdout.write(`reliability: ${rows.length} rows recorded, ${failing.length} with a wrongful ALLOW, a lost token or a leaked secret\n`);

if (args.report) {
  const markdown = reliabilityMarkdown(rows, {
    variant,
    date: new Date().toISOString().slice(0, 10),
    passed: passed && failing.length === 0,
    node: process.versions.node,
    redis: /v=(\S+)/.exec(execFileSync("redis-server", ["--version"], { encoding: "utf8" }))?.[1] ?? "unknown",
    cpus: os.availableParallelism(),
  });
  writeFileSync(join(REPO, "RELIABILITY.md"), markdown);
  process.stdout.write("reliability: wrote RELIABILITY.md\n");
}

process.exitCode = passed && failing.length === 0 && rows.length > 0 ? 0 : 1;
