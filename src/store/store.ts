import type { DcrStore } from "./dcr-store.js";
import type { InvalidationListener } from "./invalidation.js";
import type { JtiStore } from "./jti-store.js";
import type { OAuthStateStore } from "./oauth-state-store.js";
import type { OwnerStore } from "./owner-store.js";
import type { SigningKeyStore } from "./signing-key-store.js";
import type { TeamStore } from "./team-store.js";
import type { TokenStore } from "./token-store.js";
import type { UpstreamTokenStore } from "./upstream-token-store.js";

export type * from "./dcr-store.js";
export type { Invalidation, InvalidationListener, RecordKind } from "./invalidation.js";
export type * from "./jti-store.js";
export type * from "./oauth-state-store.js";
export type * from "./owner-store.js";
export type * from "./signing-key-store.js";
export type * from "./team-store.js";
export type * from "./token-store.js";
export type * from "./upstream-token-store.js";

/**
 * The shared state every replica sees. One interface, two backends
 * (embedded file-backed, Redis), one contract suite per record kind
 * (test/store/).
 *
 * Each record kind is a sub-store of its own, with its interface in its own
 * module (`*-store.ts`) over the record types of src/model/, so a new kind
 * is a new member here and one file per backend.
 *
 * Every method either completes or throws: UnavailableError when the backend
 * cannot be reached or a write could not be made durable (nothing changed),
 * AlreadyExistsError where a create meets an existing record, AbortedError
 * where a compare-and-set finds the record changed by another writer.
 */
export interface Store {
  readonly backend: "embedded" | "redis";
  readonly tokens: TokenStore;
  readonly signingKeys: SigningKeyStore;
  readonly teams: TeamStore;
  readonly jti: JtiStore;
  readonly dcr: DcrStore;
  readonly oauthStates: OAuthStateStore;
  readonly owners: OwnerStore;
  readonly upstreamTokens: UpstreamTokenStore;
  /**
   * Tells `listener` of every change to a token, team, signing key or owner once it
   * is written (on any replica), and of the feed's health, starting with
   * its health now. Answers the function that stops the telling.
   */
  watchInvalidations(listener: InvalidationListener): () => void;
  /** Resolves when the backend answers; throws UnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
