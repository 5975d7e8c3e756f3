import type { Clock } from "../clock.js";
import type { Identity } from "../model/identity.js";
import type { StoredToken } from "../model/token.js";
import type { TokenReader } from "./cache/cached-reads.js";
import type { CredentialVerifier, Verification } from "./credential-verifier.js";
import type { LastUsedTracker } from "./last-used-tracker.js";
import { hashesEqual, tokenIdFromHash, type SecretHasher } from "./opaque-token.js";

/**
 * Opaque bearer tokens: those named in config (held in memory) and those in
 * the store (bootstrap, imported, minted). Takes any bearer no other
 * verifier claims, so it goes last.
 */
export function opaqueVerifier(deps: {
  /** The store's tokens, read through the caches (docs/caching.md). */
  tokens: TokenReader;
  configTokens: ReadonlyMap<string, StoredToken>;
  hasher: SecretHasher;
  clock: Clock;
  lastUsed: LastUsedTracker;
}): CredentialVerifier {
  return {
    accepts: () => true,
    async verify(bearer): Promise<Verification> {
      const hash = deps.hasher.hash(bearer);
      const id = tokenIdFromHash(hash);
      const token = deps.configTokens.get(id) ?? (await deps.tokens.get(id));
      if (token === undefined || !hashesEqual(token.hash, hash)) return { rejection: { reason: "unknown_token" } };
      if (token.revokedAt !== undefined) return { rejection: { reason: "token_revoked" } };
      if (token.deactivatedAt !== undefined) return { rejection: { reason: "token_inactive" } };
      if (token.expiresAt !== undefined && token.expiresAt <= deps.clock()) {
        return { rejection: { reason: "token_expired" } };
      }
      if (token.source !== "config") deps.lastUsed.used(token.id);
      return { identity: identityOf(token) };
    },
  };
}

function identityOf(token: Readonly<StoredToken>): Identity {
  return {
    subject: `token:${token.id}`,
    tokenId: token.id,
    credentialType: "opaque",
    name: token.name,
    scopes: token.scopes,
    libraries: token.allowedLibraries,
    allowedTools: token.allowedTools,
    source: token.source,
    ...(token.owner === undefined ? {} : { owner: token.owner }),
  };
}
