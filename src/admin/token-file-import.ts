import { readFile } from "node:fs/promises";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { tokenIdFromHash, type SecretHasher } from "../credentials/opaque-token.js";
import { parseTokenFile } from "../credentials/token-file.js";
import { AlreadyExistsError, InvalidArgumentError } from "../errors.js";
import type { TokenStore } from "../store/store.js";

/**
 * Imports a legacy token file into the store (source "file"). Ids derive
 * from the secret, so importing the same file again (or from several
 * replicas) changes nothing, and a revoked imported token stays revoked.
 */
export async function importTokenFile(deps: {
  path: string;
  tokens: TokenStore;
  hasher: SecretHasher;
  clock: Clock;
  log: Logger;
}): Promise<void> {
  const { entries, problems } = parseTokenFile(await readTokenFile(deps.path));
  for (const problem of problems) {
    deps.log.error({ file: deps.path, line: problem.line }, `token file line skipped: ${problem.message}`);
  }
  let imported = 0;
  for (const entry of entries) {
    const hash = deps.hasher.hash(entry.secret);
    try {
      await deps.tokens.insert({
        id: tokenIdFromHash(hash),
        hash,
        scopes: entry.scopes,
        name: entry.name ?? `imported line ${entry.line}`,
        allowedLibraries: [],
        allowedTools: [],
        source: "file",
        createdAt: entry.createdAt ?? deps.clock(),
      });
      imported++;
    } catch (error) {
      if (!(error instanceof AlreadyExistsError)) throw error;
    }
  }
  deps.log.info({ file: deps.path, imported, alreadyPresent: entries.length - imported, skipped: problems.length }, "token file imported");
}

async function readTokenFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new InvalidArgumentError("PORTCULLIS_TOKEN_FILE", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "read failed"}`);
  }
}
