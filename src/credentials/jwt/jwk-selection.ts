import { errors, type JWK } from "jose";

/** What kind of public key each asymmetric JWS algorithm verifies with. */
const KEY_SHAPES: Record<string, { kty: string; crv?: readonly string[] }> = {
  RS256: { kty: "RSA" },
  RS384: { kty: "RSA" },
  RS512: { kty: "RSA" },
  PS256: { kty: "RSA" },
  PS384: { kty: "RSA" },
  PS512: { kty: "RSA" },
  ES256: { kty: "EC", crv: ["P-256"] },
  ES384: { kty: "EC", crv: ["P-384"] },
  ES512: { kty: "EC", crv: ["P-521"] },
  EdDSA: { kty: "OKP", crv: ["Ed25519"] },
  Ed25519: { kty: "OKP", crv: ["Ed25519"] },
};

/** Algorithms a key set (public keys only) can verify. */
export const ASYMMETRIC_ALGORITHMS: readonly string[] = Object.keys(KEY_SHAPES);

/** The JWKS members that are usable at all: objects naming a key type. */
export function usableJwks(document: unknown): JWK[] | undefined {
  if (typeof document !== "object" || document === null) return undefined;
  const keys = (document as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return undefined;
  return keys.filter((key): key is JWK => typeof key === "object" && key !== null && typeof (key as JWK).kty === "string");
}

/**
 * The one key in `keys` that fits a token header: same `kid` (when the
 * header names one), a key type matching `alg`, meant for signatures.
 * Undefined when none fits; JWKSMultipleMatchingKeys when a header without
 * `kid` fits several.
 */
export function selectJwk(keys: readonly JWK[], header: { alg?: string; kid?: string }): JWK | undefined {
  const shape = header.alg === undefined ? undefined : KEY_SHAPES[header.alg];
  if (shape === undefined) return undefined;
  const fitting = keys.filter(
    (key) =>
      (header.kid === undefined || key.kid === header.kid) &&
      key.kty === shape.kty &&
      (shape.crv === undefined || shape.crv.includes(String(key.crv))) &&
      (key.use === undefined || key.use === "sig") &&
      (key.alg === undefined || key.alg === header.alg) &&
      (!Array.isArray(key.key_ops) || key.key_ops.includes("verify")),
  );
  if (fitting.length > 1) throw new errors.JWKSMultipleMatchingKeys();
  return fitting[0];
}
