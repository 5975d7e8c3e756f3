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
