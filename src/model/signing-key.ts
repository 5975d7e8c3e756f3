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
