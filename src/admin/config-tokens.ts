import { tokenIdFromHash, type SecretHasher } from "../credentials/opaque-token.js";
import type { StoredToken } from "../model/token.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";
import type { RootTokenConfig } from "./root-token-settings.js";

/** Root tokens named in configuration, held in memory by id and never stored. */
export function configRootTokens(
  tokens: readonly RootTokenConfig[],
  hasher: SecretHasher,
  loadedAt: number,
): Map<string, StoredToken> {
  const byId = new Map<string, StoredToken>();
  for (const { token, name } of tokens) {
    const hash = hasher.hash(token);
    const id = tokenIdFromHash(hash);
    byId.set(id, {
      id,
      hash,
      scopes: [WILDCARD_SCOPE],
      name,
      allowedLibraries: [],
      allowedTools: [],
      source: "config",
      createdAt: loadedAt,
    });
  }
  return byId;
}
