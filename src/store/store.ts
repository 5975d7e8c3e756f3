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
  readonly dcr: DcrStore;
  readonly oauthStates: OAuthStateStore;
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

/** Names one DCR registration (see src/oauth/dcr-key.ts for the canonical form). */
export interface DcrKey {
  issuer: string;
  upstreamId: string;
  redirectUri: string;
  /** Canonical scope-set hash, 64 lowercase hex characters. */
  scopesHash: string;
}

/**
 * A DCR resolution as stored. Times are Unix seconds, 0 meaning unset; a
 * `clientSecretExpiresAt` of 0 never expires. Secret fields hold whatever
 * the service layer gives (plain, or sealed when encryption is on).
 */
export interface DcrRecord {
  key: DcrKey;
  providerName: string;
  clientId: string;
  clientSecret: string;
  tokenEndpointAuthMethod: string;
  registrationAccessToken: string;
  registrationClientUri: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  clientIdIssuedAt: number;
  clientSecretExpiresAt: number;
  createdAt: number;
}

export type DcrAcquisition =
  | { record: DcrRecord }
  | { lease: { leaseId: string; expiresAtMs: number } }
  | { held: { expiresAtMs: number } };

export interface DcrStore {
  /**
   * The record under `key`, undefined when there is none or it was evicted.
   * A record whose secret expired may still come back for up to a second
   * (the eviction window); the caller checks expiry.
   */
  get(key: DcrKey, nowMs: number): Promise<DcrRecord | undefined>;
  /**
   * Writes (overwrites) a record, evicting it per src/store/dcr-expiry.ts.
   * When `leaseId` is the key's current lease, releases it in the same step.
   */
  put(record: DcrRecord, nowMs: number, leaseId?: string): Promise<{ leaseReleased: boolean }>;
  /** True when there was a record to delete. */
  delete(key: DcrKey, nowMs: number): Promise<boolean>;
  /** Every record, or those of one issuer. Unreadable entries are skipped. */
  list(issuer: string | undefined, nowMs: number): Promise<DcrRecord[]>;
  /**
   * Atomically: the unexpired record if there is one; otherwise a new lease
   * `leaseId` for `ttlMs` unless another lease is in force.
   */
  acquire(key: DcrKey, leaseId: string, ttlMs: number, nowMs: number): Promise<DcrAcquisition>;
  /** When the lease in force on `key` ends; undefined when there is none. */
  leaseExpiry(key: DcrKey, nowMs: number): Promise<number | undefined>;
}

/** A pending authorization-code flow, keyed by the hash of its state. */
export interface OAuthFlowRecord {
  upstreamIssuer: string;
  tokenEndpoint: string;
  clientId: string;
  /** Plain, or sealed when encryption is on. */
  clientSecret: string;
  tokenEndpointAuthMethod: string;
  redirectUri: string;
  /** Plain, or sealed when encryption is on. */
  codeVerifier: string;
  nonce: string;
  scopes: string[];
  resource: string;
  createdAt: number;
  expiresAt: number;
}

export type OAuthStateConsumption = { record: OAuthFlowRecord } | { used: true } | { unknown: true };

export interface OAuthStateStore {
  /** Stores a new flow until `record.expiresAt`; AlreadyExistsError if the id is taken. */
  insert(stateId: string, record: OAuthFlowRecord): Promise<void>;
  /**
   * Takes the flow out, once: the first call gets the record, later calls
   * `used` (until the flow would have expired), unknown or expired ids `unknown`.
   */
  consume(stateId: string, nowMs: number): Promise<OAuthStateConsumption>;
}
