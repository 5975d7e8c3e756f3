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

const MARK = "pcl-enc:v1:";
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** No key configured: values stay plain (ToolHive's layout); sealed ones cannot be read. */
export const plainSealer: SecretSealer = {
  seal: (plain) => plain,
  open(stored) {
    if (stored.startsWith(MARK)) {
      throw new FailedPreconditionError("secret_sealed: a stored secret is encrypted but no encryption key is configured");
    }
    return stored;
  },
};

/**
 * Envelope encryption with AES-256-GCM: each value gets a fresh data key,
 * itself sealed with the configured key, so that re-keying only re-seals
 * data keys. Format: `pcl-enc:v1:<key id>:<sealed data key>:<sealed value>`
 * (base64url, each sealed part IV | ciphertext | tag).
 */
export function envelopeSealer(masterKey: Buffer): SecretSealer {
  const keyId = createHash("sha256").update(masterKey).digest("hex").slice(0, 8);
  return {
    seal(plain, context) {
      if (plain === "") return plain;
      const dataKey = randomBytes(32);
      const sealedKey = gcmSeal(masterKey, dataKey, `dek:${keyId}`);
      const sealedValue = gcmSeal(dataKey, Buffer.from(plain, "utf8"), context);
      return `${MARK}${keyId}:${sealedKey}:${sealedValue}`;
    },
    open(stored, context) {
      if (!stored.startsWith(MARK)) return stored;
      const [storedKeyId, sealedKey, sealedValue] = stored.slice(MARK.length).split(":");
      if (storedKeyId !== keyId) {
        throw new FailedPreconditionError("secret_sealed: a stored secret was encrypted with another key");
      }
      try {
        const dataKey = gcmOpen(masterKey, sealedKey ?? "", `dek:${keyId}`);
        return gcmOpen(dataKey, sealedValue ?? "", context).toString("utf8");
      } catch {
        throw new FailedPreconditionError("secret_sealed: a stored secret does not decrypt (damaged or moved)");
      }
    },
  };
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
