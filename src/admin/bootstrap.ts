import { randomBytes } from "node:crypto";
import { rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../clock.js";
import { generateSecret, tokenIdFromHash, type SecretHasher } from "../credentials/opaque-token.js";
import { writeFileDurably } from "../store/embedded/durable-file.js";
import type { TokenStore } from "../store/store.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";

export const ROOT_TOKEN_FILE = "root.token";

/**
 * On the very first start (no bootstrap token was ever created in the store)
 * creates a root token and writes it to `<dataDir>/root.token` (0600). The
 * file is written before the token exists, so a token is never created that
 * nobody can read; a replica that loses the race removes its file again.
 */
export async function bootstrapRootToken(deps: {
  tokens: TokenStore;
  hasher: SecretHasher;
  clock: Clock;
  dataDir: string;
  log: Logger;
}): Promise<void> {
  const secret = generateSecret();
  const hash = deps.hasher.hash(secret);
  const finalPath = join(deps.dataDir, ROOT_TOKEN_FILE);
  // Named per process: replicas sharing a data dir must not write one another's pending file.
  const pendingPath = `${finalPath}.${randomBytes(6).toString("hex")}.pending`;
  await writeFileDurably(pendingPath, `${secret}\n`);
  let created = false;
  try {
    created = await deps.tokens.claimBootstrap({
      id: tokenIdFromHash(hash),
      hash,
      scopes: [WILDCARD_SCOPE],
      name: "bootstrap root",
      allowedLibraries: [],
      allowedTools: [],
      source: "bootstrap",
      createdAt: deps.clock(),
    });
  } finally {
    if (!created) await unlink(pendingPath).catch(() => undefined);
  }
  if (created) {
    await rename(pendingPath, finalPath);
    deps.log.warn({ path: finalPath }, "created the bootstrap root token; read it from this file");
  } else {
    deps.log.info("a bootstrap root token exists already");
  }
}
