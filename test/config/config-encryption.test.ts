import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { derivedKeyId } from "../../src/sealing/secret-sealer.js";
import { configFileWriter, refusal } from "../support/config-files.js";

const KEY1 = Buffer.alloc(32, 1);
const KEY2 = Buffer.alloc(32, 2);
const b64 = (key: Buffer) => key.toString("base64");

describe("the encryption key ring settings", () => {
  const configFile = configFileWriter();

  it("take keys from the file, inline or from key files, with the key named by seal_with sealing", () => {
    const keyFile = configFile(`  ${b64(KEY2)}\n`);
    const file = configFile(`encryption:\n  keys:\n    - { id: old, key: "${b64(KEY1)}" }\n    - { id: new, key_file: ${keyFile} }\n  seal_with: new\n`);
    expect(loadConfig({ PORTCULLIS_CONFIG: file }).encryption).toEqual({
      keys: [
        { id: "old", key: KEY1 },
        { id: "new", key: KEY2 },
      ],
      sealWith: "new",
    });
  });

  it("take keys and seal_with from the environment, a key without id keeping its derived id, and one key sealing by itself", () => {
    expect(loadConfig({ PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ key: b64(KEY1) }]) }).encryption).toEqual({
      keys: [{ id: derivedKeyId(KEY1), key: KEY1 }],
      sealWith: derivedKeyId(KEY1),
    });
    const env = { PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ id: "a", key: b64(KEY1) }, { id: "b", key: b64(KEY2) }]), PORTCULLIS_ENCRYPTION_SEAL_WITH: "a" };
    expect(loadConfig(env).encryption?.sealWith).toBe("a");
  });

  it("read dcr.encryption_key as a ring of that one key under the id its values were sealed with", () => {
    expect(loadConfig({ PORTCULLIS_DCR_ENCRYPTION_KEY: b64(KEY1) }).encryption).toEqual({
      keys: [{ id: derivedKeyId(KEY1), key: KEY1 }],
      sealWith: derivedKeyId(KEY1),
    });
  });

  it("refuse dcr.encryption_key together with the encryption section, saying how to move", () => {
    const error = refusal({ PORTCULLIS_DCR_ENCRYPTION_KEY: b64(KEY1), PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ key: b64(KEY2) }]) });
    expect(error.message).toMatch(/^PORTCULLIS_DCR_ENCRYPTION_KEY: cannot be set together with the encryption section: move the key into encryption\.keys/);
  });

  it("refuse a ring with several keys and no seal_with, or a seal_with naming no key", () => {
    const keys = JSON.stringify([{ id: "a", key: b64(KEY1) }, { id: "b", key: b64(KEY2) }]);
    expect(refusal({ PORTCULLIS_ENCRYPTION_KEYS: keys }).message).toMatch(/encryption\.seal_with: is required with more than one key/);
    expect(refusal({ PORTCULLIS_ENCRYPTION_KEYS: keys, PORTCULLIS_ENCRYPTION_SEAL_WITH: "c" }).message).toMatch(/PORTCULLIS_ENCRYPTION_SEAL_WITH: names no key/);
  });

  it("refuse a repeated id or key, a key with both or neither of key and key_file, an empty ring and a bad id", () => {
    const cases: [unknown[], RegExp][] = [
      [[{ id: "a", key: b64(KEY1) }, { id: "a", key: b64(KEY2) }], /\[1\]: repeats .*\[0\]/],
      [[{ id: "a", key: b64(KEY1) }, { id: "b", key: b64(KEY1) }], /\[1\]: repeats .*\[0\]/],
      [[{ id: "a", key: b64(KEY1), key_file: "/nonexistent" }], /\[0\]: must have exactly one of key and key_file/],
      [[{ id: "a" }], /\[0\]: must have exactly one of key and key_file/],
      [[], /must name at least one key/],
      [[{ id: "a:b", key: b64(KEY1) }], /id: must be 1 to 32 letters/],
    ];
    for (const [keys, message] of cases) {
      expect(refusal({ PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify(keys), PORTCULLIS_ENCRYPTION_SEAL_WITH: "a" }).message).toMatch(message);
    }
  });

  it("refuse a key that is not 32 bytes, or an unreadable key file, without echoing the key", () => {
    const short = Buffer.alloc(16, 2).toString("base64");
    const error = refusal({ PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ key: short }]) });
    expect(error.message).toMatch(/must be 32 bytes, base64-encoded/);
    expect(error.message).not.toContain(short);
    const shortFile = configFile(short);
    const fromFile = refusal({ PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ key_file: shortFile }]) });
    expect(fromFile.message).toMatch(/key_file: must be 32 bytes/);
    expect(fromFile.message).not.toContain(short);
    expect(refusal({ PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ key_file: "/nonexistent/key" }]) }).message).toMatch(/key_file: cannot be read: \/nonexistent\/key/);
  });
});
