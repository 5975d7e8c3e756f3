import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { tracked } from "./spawned-processes.js";

export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const CLI_ENTRY = join(REPO, "src/cli/portcullis-admin.ts");

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  env?: Record<string, string>;
  /** Written to the CLI's stdin, which is then closed. */
  stdin?: string;
}

/** Runs `command args` in the repository with only PATH and HOME from this process, and `options.env` on top. */
export function runProgram(command: string, args: readonly string[], options: CliRunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = tracked(
      spawn(command, args, {
        cwd: REPO,
        env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? tmpdir(), ...options.env },
        stdio: ["pipe", "pipe", "pipe"],
      }),
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    // "close", not "exit": only then has everything it wrote been read.
    child.once("close", (exitCode) => resolve({ exitCode, stdout, stderr }));
    child.stdin.end(options.stdin ?? "");
  });
}

export interface BundledCli {
  /** Runs the bundled CLI with `args`. */
  run(args: readonly string[], options?: CliRunOptions): Promise<CliResult>;
  cleanup(): Promise<void>;
}

/**
 * The CLI's entry point bundled by esbuild: a start through tsx (as
 * `npm run admin` does) costs over a second of CPU, several on a loaded
 * machine, and a test file starts the CLI dozens of times. Bundle once per file.
 */
export async function bundleAdminCli(): Promise<BundledCli> {
  const dir = await mkdtemp(join(tmpdir(), "portcullis-admin-cli-"));
  const outfile = join(dir, "portcullis-admin.mjs");
  await build({ entryPoints: [CLI_ENTRY], bundle: true, platform: "node", format: "esm", outfile, logLevel: "error" });
  return {
    run: (args, options) => runProgram(process.execPath, [outfile, ...args], options),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/**
 * The rows of a table the CLI printed, read by the columns of its header: a
 * cell starts where its header starts, so a misaligned table reads wrongly.
 */
export function tableRows(text: string): Record<string, string>[] {
  const [header, ...lines] = text.trimEnd().split("\n");
  const starts = [...header!.matchAll(/\S+(?: \S+)*/g)].map((match) => ({ name: match[0], start: match.index }));
  return lines.map((line) =>
    Object.fromEntries(
      starts.map(({ name, start }, column) => {
        const end = starts[column + 1]?.start ?? line.length;
        // Two spaces before every column but the first: a cell that overran its width shows here.
        if (start > 0 && line.slice(start - 2, start) !== "  ") throw new Error(`column ${name} is not aligned in: ${line}`);
        return [name, line.slice(start, end).trim()];
      }),
    ),
  );
}

/** The "label: value" lines of one record the CLI printed. */
export function recordFields(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = /^([a-z][a-z ]*):\s+(.*)$/.exec(line);
    if (match !== null) fields[match[1]!] = match[2]!;
  }
  return fields;
}
