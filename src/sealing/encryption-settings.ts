import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { InvalidArgumentError } from "../errors.js";
import { annotations, section, text } from "../settings-schema/schema-kit.js";
import { derivedKeyId, KEY_ID_PATTERN, type SealingKey } from "./secret-sealer.js";

const KEY_BYTES = 32;

const keySchema = section(
  "One AES-256 key of the ring: exactly one of `key` and `key_file`.",
  {
    id: Type.String({
      pattern: KEY_ID_PATTERN.source,
      ...annotations(
        {
          description: "the id written into every value the key seals (1 to 32 letters, digits, `_`, `-`)",
          defaultText: "the first 8 hex digits of the key's SHA-256 (the id `dcr.encryption_key` always wrote)",
        },
        "must be 1 to 32 letters, digits, _ or -",
      ),
    }),
    key: text({ description: "the key: 32 bytes, base64 or base64url" }),
    key_file: text({ description: "a file holding the key (32 bytes, base64 or base64url; surrounding whitespace ignored)" }),
  },
);

export const encryptionSchema = section(
  "Envelope encryption of secrets at rest (DCR secrets, pending flows, team signing keys): see [storage](storage.md#secrets-at-rest).",
  {
    keys: Type.Array(
      keySchema,
      annotations(
        {
          env: "PORTCULLIS_ENCRYPTION_KEYS",
          envFormat: "json",
          defaultText: "none: secrets stored plain (a warning at every start)",
          description:
            "the key ring: every key opens what it sealed; `seal_with` seals. Keep a retired key here until a start has re-sealed under the new one (the variable holds a JSON list)",
        },
        "must be a non-empty list of keys",
      ),
    ),
    seal_with: text({
      env: "PORTCULLIS_ENCRYPTION_SEAL_WITH",
      defaultText: "the only key, when there is one",
      description: "id of the key that seals new values (and re-seals old ones at start)",
    }),
  },
);

/** The key ring as configured; absent: no key, secrets stay plain. */
export interface EncryptionSettings {
  keys: SealingKey[];
  sealWith: string;
}

/**
 * The ring from `encryption`, or from the older `dcr.encryption_key`, which
 * stands for a ring of that one key under its derived id. Both at once are
 * refused: one key named in two places could be read two ways.
 */
export function encryptionSettings(
  file: Static<typeof encryptionSchema> | undefined,
  dcrEncryptionKey: string | undefined,
): EncryptionSettings | undefined {
  if (file !== undefined && dcrEncryptionKey !== undefined) {
    throw new InvalidArgumentError(
      "dcr.encryption_key",
      "cannot be set together with the encryption section: move the key into encryption.keys (without an id it keeps the id of the values it sealed) and remove dcr.encryption_key",
    );
  }
  if (dcrEncryptionKey !== undefined) {
    const key = keyBytes("dcr.encryption_key", dcrEncryptionKey);
    return { keys: [{ id: derivedKeyId(key), key }], sealWith: derivedKeyId(key) };
  }
  if (file === undefined) return undefined;
  const entries = file.keys ?? [];
  if (entries.length === 0) throw new InvalidArgumentError("encryption.keys", "must name at least one key (or leave out the encryption section)");
  const keys = entries.map((entry, index): SealingKey => {
    const field = `encryption.keys[${index}]`;
    if ((entry.key === undefined) === (entry.key_file === undefined)) throw new InvalidArgumentError(field, "must have exactly one of key and key_file");
    const key = entry.key !== undefined ? keyBytes(`${field}.key`, entry.key) : keyBytes(`${field}.key_file`, keyFile(`${field}.key_file`, entry.key_file!));
    return { id: entry.id ?? derivedKeyId(key), key };
  });
  keys.forEach(({ id, key }, index) => {
    const earlier = keys.findIndex((other) => other.id === id || other.key.equals(key));
    if (earlier < index) {
      throw new InvalidArgumentError(`encryption.keys[${index}]`, `repeats encryption.keys[${earlier}] (the same id or the same key)`);
    }
  });
  const sealWith = file.seal_with ?? (keys.length === 1 ? keys[0]!.id : undefined);
  if (sealWith === undefined) throw new InvalidArgumentError("encryption.seal_with", "is required with more than one key: name the id of the key that seals");
  if (!keys.some(({ id }) => id === sealWith)) throw new InvalidArgumentError("encryption.seal_with", `names no key of encryption.keys: ${sealWith}`);
  return { keys, sealWith };
}

export function encryptionWarnings(settings: EncryptionSettings | undefined): string[] {
  return settings === undefined
    ? ["encryption.keys is not set: DCR secrets, pending flows and team signing keys are stored plain in the store"]
    : [];
}

/** 32 bytes, base64 or base64url. The value is never echoed: it is a secret. */
function keyBytes(field: string, raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== KEY_BYTES) {
    throw new InvalidArgumentError(field, `must be ${KEY_BYTES} bytes, base64-encoded`);
  }
  return key;
}

/** Neither the file's text nor the read error's is echoed. */
function keyFile(field: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new InvalidArgumentError(field, `cannot be read: ${path}`);
  }
}
