import type { StoredToken } from "../model/token.js";

export interface TokenStore {
  /** Creates a token; AlreadyExistsError when its id is taken. */
  insert(token: StoredToken): Promise<void>;
  /** Read-only: the embedded backend hands out its own record, frozen. */
  get(id: string): Promise<Readonly<StoredToken> | undefined>;
  /** Every token, oldest first; tokens created in the same millisecond by id. */
  list(): Promise<StoredToken[]>;
  /** Marks a token revoked; undefined when there is no such unrevoked token. */
  revoke(id: string, at: number): Promise<StoredToken | undefined>;
  /**
   * Deactivates (`active` false) or reactivates an unrevoked token, at once
   * for every replica; undefined when there is no such unrevoked token or it
   * was already so.
   */
  setActive(id: string, active: boolean, at: number): Promise<StoredToken | undefined>;
  /** Records a use; a missing token is ignored. */
  touch(id: string, at: number): Promise<void>;
  /**
   * Inserts `token` as the bootstrap root token unless a bootstrap token was
   * ever created; true when this call created it. Atomic across replicas.
   */
  claimBootstrap(token: StoredToken): Promise<boolean>;
}
