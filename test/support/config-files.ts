import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { loadConfig } from "../../src/config.js";
import { InvalidArgumentError } from "../../src/errors.js";

/**
 * A writer of configuration files into a temporary directory of its own,
 * removed after the enclosing suite (call it at the top of a test file or of a
 * describe block). Each call writes a new file and returns its path.
 */
export function configFileWriter(): (text: string) => string {
  const dir = mkdtempSync(join(tmpdir(), "portcullis-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let written = 0;
  return (text) => {
    const path = join(dir, `portcullis-${++written}.yaml`);
    writeFileSync(path, text);
    return path;
  };
}

/** The InvalidArgumentError loadConfig refuses `env` with; fails the test if it accepts it or fails otherwise. */
export function refusal(env: Record<string, string>): InvalidArgumentError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof InvalidArgumentError) return error;
    throw error;
  }
  throw new Error("expected loadConfig to refuse");
}
