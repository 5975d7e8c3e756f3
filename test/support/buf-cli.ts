import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const BUF = `${REPO}node_modules/.bin/buf`;

export interface BufResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the buf CLI from node_modules in the repository, as an operator's shell would; a failure is a result, not a throw. */
export async function runBuf(args: readonly string[]): Promise<BufResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(BUF, args, { cwd: REPO });
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { exitCode: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
