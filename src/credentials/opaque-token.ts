import { createHmac, hash, randomBytes, timingSafeEqual } from "node:crypto";

/** Every minted secret starts with this, so a leaked one is greppable. */
export const OPAQUE_TOKEN_PREFIX = "pcl_";

const SECRET_BYTES = 32;
const ID_PREFIX = "tok_";
const ID_LENGTH = 22;

/** A fresh 256-bit secret from the CSPRNG. */
export function generateSecret(): string {
  return OPAQUE_TOKEN_PREFIX + randomBytes(SECRET_BYTES).toString("base64url");
}

/**
 * Hashes secrets for storage and lookup: HMAC-SHA-256 under a server-side
 * pepper when one is configured, SHA-256 otherwise. Either way a dump of the
 * store yields no usable token; the pepper additionally makes a dump useless
 * for checking guesses. All replicas must share the pepper.
 */
export class SecretHasher {
  constructor(private readonly pepper?: string) {}

  hash(secret: string): string {
    return this.pepper === undefined
      ? hash("sha256", secret, "hex")
      : createHmac("sha256", this.pepper).update(secret).digest("hex");
  }
}

/**
 * The public id is derived from the hash: lookup needs no index, and the id
 * is one more one-way step away from the secret.
 */
export function tokenIdFromHash(secretHash: string): string {
  const digest = hash("sha256", `portcullis token id\0${secretHash}`, "base64url");
  return ID_PREFIX + digest.slice(0, ID_LENGTH);
}

/**
 * A random public id, for a token that has no secret kept here (a team
 * token's jti): 128 bits, the same tok_ form as a derived id.
 */
export function randomTokenId(): string {
  return ID_PREFIX + randomBytes(16).toString("base64url");
}

/** True for strings shaped like a public id (so a secret passed as an id is never echoed). */
export function isTokenId(value: string): boolean {
  return value.length === ID_PREFIX.length + ID_LENGTH && value.startsWith(ID_PREFIX) && /^[A-Za-z0-9_-]+$/.test(value.slice(ID_PREFIX.length));
}

export function hashesEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "hex");
  const right = Buffer.from(b, "hex");
  return left.length === right.length && timingSafeEqual(left, right);
}
