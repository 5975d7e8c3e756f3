import type { SigningKeyRecord, StoredSigningKey } from "../model/signing-key.js";

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
  /**
   * Replaces the stored `secret` of a key by what `reseal` makes of it, in
   * one atomic step (re-sealing at rest); `reseal` answers undefined to leave
   * it. True when replaced; false when there is no such key or nothing to do;
   * AbortedError when another writer changed the key in between (nothing written).
   */
  resealSecret(kid: string, reseal: (stored: string) => string | undefined): Promise<boolean>;
}
