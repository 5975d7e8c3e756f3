import { appendFileSync, existsSync, readFileSync } from "node:fs";

/** One test's figures: a row of RELIABILITY.md. */
export interface ReliabilityRow {
  /** The test's name, as the report shows it. */
  test: string;
  /** Calls driven against the servers (decisions, mints, revokes, probes). */
  operations: number;
  /** Faults injected (a kill, a freeze, a flush …). */
  faults: number;
  /** Malformed or hostile inputs sent. */
  badInputs: number;
  /** ALLOWs for a credential that was revoked (past the cache bound) or never existed. Must be 0. */
  wrongfulAllows: number;
  /** Acknowledged writes that a later read did not find. Must be 0. */
  tokensLost: number;
  /** Token secrets (or hostile inputs beyond a bounded prefix) found in a server's output. Must be 0. */
  secretsLeaked: number;
  /** Seconds from the end of the fault until the service answered normally again; null where nothing failed. */
  recoverySeconds: number | null;
  /** p99 latency of the calls made during the fault, in ms; null where no fault was timed. */
  p99DuringFaultMs: number | null;
}

/** The columns a run fails on when any row holds anything but 0. */
export const MUST_BE_ZERO = ["wrongfulAllows", "tokensLost", "secretsLeaked"] as const;

/** Where test/reliability/run.ts asks each test file to append its rows (JSON lines). */
export const ROWS_FILE_ENV = "PORTCULLIS_RELIABILITY_ROWS";
/** `standard` (CI) or `long` (soak, `-- --long`). */
export const VARIANT_ENV = "PORTCULLIS_RELIABILITY_VARIANT";

export type Variant = "standard" | "long";

export function variant(): Variant {
  return process.env[VARIANT_ENV] === "long" ? "long" : "standard";
}

/**
 * Records a test's row, then fails the test if one of the must-be-zero
 * columns is not: the row is written first, so the report shows what failed.
 */
export function recordRow(row: ReliabilityRow): void {
  const file = process.env[ROWS_FILE_ENV];
  if (file !== undefined && file !== "") appendFileSync(file, `${JSON.stringify(row)}\n`);
  const broken = MUST_BE_ZERO.filter((column) => row[column] !== 0);
  if (broken.length > 0) throw new Error(`${row.test}: ${broken.map((column) => `${column}=${row[column]}`).join(", ")}`);
}

/**
 * Records the row of one fault injected under load: no bad input, and the
 * p99 of the calls made while the fault lasted (`msDuringFault`).
 */
export function recordFaultRow(
  test: string,
  figures: Pick<ReliabilityRow, "operations" | "wrongfulAllows" | "tokensLost" | "secretsLeaked" | "recoverySeconds"> & { msDuringFault: readonly number[] },
): void {
  recordRow({
    test,
    operations: figures.operations,
    faults: 1,
    badInputs: 0,
    wrongfulAllows: figures.wrongfulAllows,
    tokensLost: figures.tokensLost,
    secretsLeaked: figures.secretsLeaked,
    recoverySeconds: figures.recoverySeconds,
    p99DuringFaultMs: percentile(figures.msDuringFault, 99),
  });
}

export function readRows(file: string): ReliabilityRow[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as ReliabilityRow);
}

/** The rows that break the run: any must-be-zero column that is not 0. */
export function failingRows(rows: readonly ReliabilityRow[]): ReliabilityRow[] {
  return rows.filter((row) => MUST_BE_ZERO.some((column) => row[column] !== 0));
}

/** The p-th percentile (0–100) of `values`, nearest rank; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
