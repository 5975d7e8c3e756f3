import { createHash, randomBytes } from "node:crypto";

/**
 * RFC 7636 with S256 only ("plain" would hand the verifier to anyone who
 * sees the authorization request). 32 random bytes give a 43-character
 * verifier, the shortest the RFC allows, with 256 bits of entropy.
 */
export function createCodeVerifier(): string {
  return randomBytes(32).toString("base64url");
}

export function codeChallengeS256(verifier: string): string {
  return createHash("sha256").update(verifier, "ascii").digest("base64url");
}

/** A random value for `state` or `nonce`: 256 bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString("base64url");
}
