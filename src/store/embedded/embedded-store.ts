import { join } from "node:path";
import type { Store } from "../store.js";
import { emptyEmbeddedState, type EmbeddedState } from "./embedded-state.js";
import { embeddedDcrStore } from "./embedded-dcr-store.js";
import { embeddedOAuthStateStore } from "./embedded-oauth-state-store.js";
import { embeddedTokenStore } from "./embedded-token-store.js";
import { PersistentDocument } from "./persistent-document.js";

export const EMBEDDED_DATA_FILE = "portcullis.json";

/**
 * Single-replica store: in memory, every change persisted to
 * `<dataDir>/portcullis.json` before it is visible.
 */
export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  const document = await PersistentDocument.open<EmbeddedState>(join(dataDir, EMBEDDED_DATA_FILE), emptyEmbeddedState);
  return {
    backend: "embedded",
    tokens: embeddedTokenStore(document),
    dcr: embeddedDcrStore(document),
    oauthStates: embeddedOAuthStateStore(document),
    async ping() {},
    async close() {
      await document.drain();
    },
  };
}
