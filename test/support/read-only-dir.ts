import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { promisify } from "node:util";

const run = promisify(execFile);
const asRoot = process.getuid?.() === 0;

/**
 * Makes a directory refuse new files and renames. Root ignores permission
 * bits, so as root (as in CI) the directory is marked immutable instead
 * (`chattr +i`), which binds root too.
 */
export async function makeReadOnly(dir: string): Promise<void> {
  if (asRoot) await run("chattr", ["+i", dir]);
  else await chmod(dir, 0o555);
}

export async function makeWritable(dir: string): Promise<void> {
  if (asRoot) await run("chattr", ["-i", dir]);
  else await chmod(dir, 0o700);
}
