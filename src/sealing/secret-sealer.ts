import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { FailedPreconditionError } from "../errors.js";

/**
 * Protects secret fields at rest. `context` names where the value lives
 * (entry and field), so a sealed value copied elsewhere does not open.
 */
export interface SecretSealer {
  seal(plain: string, context: string): string;
  /** The plain value; a value that was never sealed comes back as it is. */
  open(stored: string, context: string): string;
}

/** A sealer over configured keys, which can tell a stored value that should be sealed again. */
export interface KeyRing extends SecretSealer {
  /** The id of the key that seals; undefined when no key is configured (values stay plain). */
  readonly sealingKeyId: string | undefined;
  /** True when `stored` is plain (not empty), or sealed with another key than the sealing one. Always false without keys. */
  isStale(stored: string): boolean;
}

/** One key of the ring: 32 bytes for AES-256, named by the id written into every value it seals. */
export interface SealingKey {
  id: string;
  key: Buffer;
}

const MARK = "pcl-enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Ids go between the format's `:` separators. */
export const KEY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** True when `stored` is in the sealed format (whatever the key). */
export function isSealed(stored: string): boolean {
  return stored.startsWith(MARK);
}

/**
 * The id of a key configured without one: the first 8 hex digits of its
 * SHA-256, the id `dcr.encryption_key` has always written, so values sealed
 * before key rings existed keep opening.
 */
export function derivedKeyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 8);
}

/** No key configured: values stay plain (ToolHive's layout); sealed ones cannot be read. */
export const plainSealer: KeyRing = {
  sealingKeyId: undefined,
  isStale: () => false,
  seal: (plain) => plain,
  open(stored) {
    if (isSealed(stored)) {
      throw new FailedPreconditionError("secret_sealed: a stored secret is encrypted but no encryption key is configured (encryption.keys)");
    }
    return stored;
  },
};

/** One key that seals and opens: a ring of one, under the key's derived id. */
export function envelopeSealer(masterKey: Buffer): KeyRing {
  const id = derivedKeyId(masterKey);
  return keyRing([{ id, key: masterKey }], id);
}

/**
 * Envelope encryption with AES-256-GCM: each value gets a fresh data key,
 * itself sealed with the ring's sealing key, so that re-keying only re-seals
 * data keys. Format: `pcl-enc:v1:<key id>:<sealed data key>:<sealed value>`
 * (base64url, each sealed part IV | ciphertext | tag). `sealWith` seals;
 * every key of the ring opens what it sealed, picked by the value's key id.
 */
export function keyRing(keys: readonly SealingKey[], sealWith: string): KeyRing {
  const byId = new Map(keys.map(({ id, key }) => [id, key]));
  const sealingKey = byId.get(sealWith);
  if (sealingKey === undefined || byId.size !== keys.length) throw new Error("a key ring needs distinct ids and its sealing key among them");
  return {
    sealingKeyId: sealWith,
    isStale: (stored) => stored !== "" && (!isSealed(stored) || keyIdOf(stored) !== sealWith),
    seal(plain, context) {
      if (plain === "") return plain;
      const dataKey = randomBytes(32);
      const sealedKey = gcmSeal(sealingKey, dataKey, `dek:${sealWith}`);
      const sealedValue = gcmSeal(dataKey, Buffer.from(plain, "utf8"), context);
      return `${MARK}${sealWith}:${sealedKey}:${sealedValue}`;
    },
    open(stored, context) {
      if (!isSealed(stored)) return stored;
      const parts = stored.slice(MARK.length).split(":");
      const [keyId = "", sealedKey = "", sealedValue = ""] = parts;
      const masterKey = byId.get(keyId);
      if (masterKey === undefined || parts.length !== 3) {
        // The id is no secret: it is written into every value the key sealed.
        throw new FailedPreconditionError(
          KEY_ID_PATTERN.test(keyId) && parts.length === 3
            ? `secret_key_unknown: a stored secret was sealed with key id ${keyId}, which is not among encryption.keys`
            : "secret_sealed: a stored secret is not in the sealed format (damaged)",
        );
      }
      try {
        const dataKey = gcmOpen(masterKey, sealedKey, `dek:${keyId}`);
        return gcmOpen(dataKey, sealedValue, context).toString("utf8");
      } catch {
        throw new FailedPreconditionError("secret_sealed: a stored secret does not decrypt (damaged or moved)");
      }
    },
  };
}

function keyIdOf(stored: string): string {
  return stored.slice(MARK.length).split(":", 1)[0] ?? "";
}

function gcmSeal(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", key, iv).setAAD(Buffer.from(aad, "utf8"));
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]).toString("base64url");
}

function gcmOpen(key: Buffer, sealed: string, aad: string): Buffer {
  const bytes = Buffer.from(sealed, "base64url");
  if (bytes.length < IV_BYTES + TAG_BYTES) throw new Error("too short");
  const decipher = createDecipheriv("aes-256-gcm", key, bytes.subarray(0, IV_BYTES)).setAAD(Buffer.from(aad, "utf8"));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)), decipher.final()]);
}
