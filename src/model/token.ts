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
  /** The user it belongs to (src/model/owner.ts); a team token's is its team's. */
  owner?: string;
  scopes: string[];
  name: string;
  allowedLibraries: string[];
  allowedTools: string[];
  source: TokenSource;
  createdAt: number;
  expiresAt?: number;
  revokedAt?: number;
  /** Set while the token is deactivated (refused `token_inactive`); unlike revocation, reactivation clears it. */
  deactivatedAt?: number;
  lastUsedAt?: number;
}
