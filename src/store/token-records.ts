export type TokenSource = "bootstrap" | "config" | "file" | "minted";

/** A token as stored: the secret is never here, only its hash. */
export interface StoredToken {
  id: string;
  /** Hex hash of the secret (see src/credentials/opaque-token.ts); empty for a team token, whose JWT is never kept. */
  hash: string;
  /**
   * Set on the record of a team token (a JWT whose jti is `id`): the team
   * it speaks for. Whether it is in force is the team's to say (its active
   * jti), so no opaque secret ever matches such a record.
   */
  teamId?: string;
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
  /** Read-only: the embedded backend hands out its own record, frozen. */
  get(id: string): Promise<Readonly<StoredToken> | undefined>;
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
