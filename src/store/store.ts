/**
 * The shared state every replica sees. One interface, two backends
 * (embedded file-backed, Redis), one contract suite (test/store/).
 *
 * Each record kind is a sub-store of its own, so later kinds (signing keys,
 * teams, jti state, DCR resolutions, OAuth flow state) are added as new
 * members without touching the existing ones.
 *
 * Every method either completes or throws: UnavailableError when the backend
 * cannot be reached or a write could not be made durable (nothing changed),
 * AlreadyExistsError where a create meets an existing record.
 */
export interface Store {
  readonly backend: "embedded" | "redis";
  readonly tokens: TokenStore;
  /** Resolves when the backend answers; throws UnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type TokenSource = "bootstrap" | "config" | "file" | "minted";

/** A token as stored: the secret is never here, only its hash. */
export interface StoredToken {
  id: string;
  /** Hex hash of the secret (see src/credentials/opaque-token.ts). */
  hash: string;
  scopes: string[];
  name: string;
  allowedLibraries: string[];
  allowedTools: string[];
  source: TokenSource;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  lastUsedAt?: number;
}

export interface TokenStore {
  /** Creates a token; AlreadyExistsError when its id is taken. */
  insert(token: StoredToken): Promise<void>;
  get(id: string): Promise<StoredToken | undefined>;
  /** Every token, oldest first; tokens created in the same millisecond by id. */
  list(): Promise<StoredToken[]>;
  /** Marks a token revoked; undefined when there is no such unrevoked token. */
  revoke(id: string, at: number): Promise<StoredToken | undefined>;
  /** Records a use; a missing token is ignored. */
  touch(id: string, at: number): Promise<void>;
  /**
   * Inserts `token` as the bootstrap root token unless a bootstrap token was
   * ever created; true when this call created it. Atomic across replicas.
   */
  claimBootstrap(token: StoredToken): Promise<boolean>;
}
