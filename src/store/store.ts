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
  readonly signingKeys: SigningKeyStore;
  readonly teams: TeamStore;
  readonly jti: JtiStore;
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
  /** Every token, oldest first. */
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

export type SigningKeyAlgorithm = "HS256" | "ES256";

/** Derived, never stored: `active` signs and verifies, `verify_only` verifies, `retired` is refused. */
export type SigningKeyState = "active" | "verify_only" | "retired";

/** A key that signs team tokens. `secret` is key material: never shown, never logged. */
export interface StoredSigningKey {
  kid: string;
  algorithm: SigningKeyAlgorithm;
  /** HS256: the base64url secret; ES256: the private JWK as JSON. */
  secret: string;
  /** ES256 only: the public JWK, published at /.well-known/jwks.json. */
  publicJwk?: Record<string, string>;
  createdAt: number;
  retiredAt?: number;
}

export interface SigningKeyRecord extends StoredSigningKey {
  state: SigningKeyState;
}

export interface SigningKeyStore {
  /**
   * Stores `key` as the key that signs from now on; the key that signed so
   * far is kept for verifying only. Atomic; AlreadyExistsError on a taken kid.
   */
  create(key: StoredSigningKey): Promise<void>;
  get(kid: string): Promise<SigningKeyRecord | undefined>;
  /** Every key, oldest first, ties by kid. */
  list(): Promise<SigningKeyRecord[]>;
  /** The key that signs now; undefined when there is none. */
  active(): Promise<SigningKeyRecord | undefined>;
  /** Retires a key; undefined when there is no such unretired key. Retiring the active key leaves none active. */
  retire(kid: string, at: number): Promise<SigningKeyRecord | undefined>;
}

export interface StoredTeam {
  /** A UUID; team tokens name the team as `team:<id>`. */
  id: string;
  name: string;
  libraries: string[];
  createdAt: number;
  /** The `jti` of the one team token that is valid now. */
  activeJti?: string;
  deactivatedAt?: number;
}

export interface TeamStore {
  /** Creates a team; AlreadyExistsError when its id is taken. */
  insert(team: StoredTeam): Promise<void>;
  get(id: string): Promise<StoredTeam | undefined>;
  /** Every team, oldest first, ties by id. */
  list(): Promise<StoredTeam[]>;
  /** Deactivates a team; undefined when there is no such active team. */
  deactivate(id: string, at: number): Promise<StoredTeam | undefined>;
  /** Replaces the team's libraries; undefined when there is no such team. */
  assignLibraries(id: string, libraries: string[]): Promise<StoredTeam | undefined>;
  /**
   * Makes `jti` the team's only valid token id, at once for every replica;
   * undefined when there is no such active team.
   */
  rotateJti(id: string, jti: string): Promise<StoredTeam | undefined>;
}

/** The outcome of a claim: whether this call made the record, and the value the live record holds. */
export interface JtiClaim {
  created: boolean;
  value: number;
}

/** Short-lived records keyed by credential instance (replay and single-use state). */
export interface JtiStore {
  /**
   * Records `value` under `id` until `retainUntil` (ms) unless a live record
   * exists, and answers the live record. Atomic across replicas: of many
   * concurrent claims on one id exactly one is `created`.
   */
  claim(id: string, value: number, retainUntil: number, now: number): Promise<JtiClaim>;
}
