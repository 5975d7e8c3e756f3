import { join } from "node:path";
import type { Store } from "../store.js";
import { embeddedStateFrom, embeddedStateJson, emptyEmbeddedState } from "./embedded-state.js";
import { embeddedDcrStore } from "./embedded-dcr-store.js";
import { embeddedOAuthStateStore } from "./embedded-oauth-state-store.js";
import { embeddedJtiStore } from "./embedded-jti-store.js";
import { embeddedSigningKeyStore } from "./embedded-signing-key-store.js";
import { embeddedTeamStore } from "./embedded-team-store.js";
import { embeddedTokenStore } from "./embedded-token-store.js";
import { PersistentDocument } from "./persistent-document.js";

export const EMBEDDED_DATA_FILE = "portcullis.json";

/**
 * Single-replica store: in memory, every change persisted to
 * `<dataDir>/portcullis.json` before it is visible.
 */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const document = await PersistentDocument.open(join(dataDir, EMBEDDED_DATA_FILE), {
    empty: emptyEmbeddedState,
    from: embeddedStateFrom,
    serialize: embeddedStateJson,
  });
  return {
    backend: "embedded",
    tokens: embeddedTokenStore(document),
    dcr: embeddedDcrStore(document),
    oauthStates: embeddedOAuthStateStore(document),
    signingKeys: embeddedSigningKeyStore(document),
    teams: embeddedTeamStore(document),
    jti: embeddedJtiStore(document),
    async ping() {},
    async close() {
      await document.drain();
    },
  };
}
