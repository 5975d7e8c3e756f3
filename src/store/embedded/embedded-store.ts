import { join } from "node:path";
import { InvalidationHub } from "../invalidation.js";
import type { Store } from "../store.js";
import { embeddedStateFrom, embeddedStateJson, emptyEmbeddedState, type EmbeddedState } from "./embedded-state.js";
import { embeddedDcrStore } from "./embedded-dcr-store.js";
import { embeddedOAuthStateStore } from "./embedded-oauth-state-store.js";
import { embeddedOwnerStore } from "./embedded-owner-store.js";
import { embeddedJtiStore } from "./embedded-jti-store.js";
import { embeddedSigningKeyStore } from "./embedded-signing-key-store.js";
import { embeddedTeamStore } from "./embedded-team-store.js";
import { embeddedTokenStore } from "./embedded-token-store.js";
import { embeddedUpstreamTokenStore } from "./embedded-upstream-token-store.js";
import { DEFAULT_LOCK_STALE_MS, lockDataDir } from "./data-dir-lock.js";
import { PersistentDocument } from "./persistent-document.js";
import { SpaceReserve } from "./space-reserve.js";

export const EMBEDDED_DATA_FILE = "portcullis.json";
/** Space held for revocations on a full disk (see PersistentDocument). */
export const EMBEDDED_RESERVE_FILE = "portcullis.reserve";

export interface EmbeddedStoreOptions {
  /** How long a lock goes unrefreshed before another process may take it over. */
  lockStaleMs?: number;
  /** Told when the data dir's lock was lost; writes are refused from then on. */
  onLockLost?: (error: Error) => void;
  /** Told of what an operator should hear about (the space reserve spent on a full disk). */
  warn?: (message: string) => void;
}

/**
 * Single-replica store: in memory, every change persisted to
 * `<dataDir>/portcullis.json` before it is visible. The data dir is locked
 * first, so a second process on it fails to start instead of overwriting
 * this one's changes with its own copy.
 */
export async function openEmbeddedStore(dataDir: string, options: EmbeddedStoreOptions = {}): Promise<Store> {
  const lock = await lockDataDir(dataDir, options.lockStaleMs ?? DEFAULT_LOCK_STALE_MS);
  let document: PersistentDocument<EmbeddedState>;
  try {
    document = await PersistentDocument.open(
      join(dataDir, EMBEDDED_DATA_FILE),
      { empty: emptyEmbeddedState, from: embeddedStateFrom, serialize: embeddedStateJson },
      new SpaceReserve(join(dataDir, EMBEDDED_RESERVE_FILE)),
      () =>
        options.warn?.(
          `data dir ${dataDir} is full: spent the space reserve (${EMBEDDED_RESERVE_FILE}) on a revocation; ` +
            "other writes fail until there is room for it again",
        ),
    );
  } catch (error) {
    await lock.release();
    throw error;
  }
  // Memory can no longer be trusted to match the file another process may be
  // writing, so nothing more is written from it; the owner decides whether to stop.
  void lock.lost.then((error) => {
    void document.seal(error.message);
    options.onLockLost?.(error);
  });
  // Every write is this process's own, so every change is heard: the feed is healthy while the store is open.
  const invalidations = new InvalidationHub({ healthy: true, reason: "embedded store: every change is made here" });
  return {
    backend: "embedded",
    tokens: embeddedTokenStore(document, invalidations),
    dcr: embeddedDcrStore(document),
    oauthStates: embeddedOAuthStateStore(document),
    upstreamTokens: embeddedUpstreamTokenStore(document),
    signingKeys: embeddedSigningKeyStore(document, invalidations),
    teams: embeddedTeamStore(document, invalidations),
    jti: embeddedJtiStore(document),
    owners: embeddedOwnerStore(document, invalidations),
    watchInvalidations: (listener) => invalidations.watch(listener),
    ping() {
      return document.checkWrites();
    },
    async close() {
      await document.drain();
      await document.seal("the embedded store is closed");
      invalidations.health(false, "store closed");
      await lock.release();
    },
  };
}
