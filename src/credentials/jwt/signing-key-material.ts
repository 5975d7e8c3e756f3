import { randomBytes } from "node:crypto";
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK } from "jose";
import type { SigningKeyAlgorithm, StoredSigningKey } from "../../model/signing-key.js";

const HMAC_SECRET_BYTES = 32;
/**
 * Generated kids start with a letter: a bare base64url kid starts with `-`
 * once in 64, and `portcullis-admin keys retire -Xy…` would then read it as
 * an option.
 */
const KEY_ID_PREFIX = "key_";

/** A fresh team-token signing key: a 256-bit HMAC secret, or an ECDSA P-256 pair. */
export async function generateSigningKey(algorithm: SigningKeyAlgorithm, createdAt: number): Promise<StoredSigningKey> {
  const kid = KEY_ID_PREFIX + randomBytes(12).toString("base64url");
  if (algorithm === "HS256") {
    return { kid, algorithm, secret: randomBytes(HMAC_SECRET_BYTES).toString("base64url"), createdAt };
  }
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const { kty, crv, x, y } = await exportJWK(publicKey);
  return {
    kid,
    algorithm,
    secret: JSON.stringify(await exportJWK(privateKey)),
    publicJwk: { kty: kty!, crv: crv!, x: x!, y: y!, kid, alg: "ES256", use: "sig" },
    createdAt,
  };
}

/** The key that signs with `key`. */
export async function signingMaterial(key: StoredSigningKey): Promise<CryptoKey | Uint8Array> {
  if (key.algorithm === "HS256") return new Uint8Array(Buffer.from(key.secret, "base64url"));
  return (await importJWK(JSON.parse(key.secret) as JWK, "ES256")) as CryptoKey;
}

/**
 * The key that verifies what `key` signed; an ES256 private key never leaves
 * signing. An HS256 secret is imported here too: handed raw bytes, jose
 * imports them again on every signature check, an asynchronous WebCrypto
 * call that makes each check several times slower.
 */
export async function verificationMaterial(key: StoredSigningKey): Promise<CryptoKey> {
  if (key.algorithm === "HS256") {
    const secret = Buffer.from(key.secret, "base64url");
    return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  }
  return (await importJWK(key.publicJwk as JWK, "ES256")) as CryptoKey;
}
