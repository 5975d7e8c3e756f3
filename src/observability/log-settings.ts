import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { InvalidArgumentError } from "../errors.js";
import { annotations, section, text } from "../settings-schema/schema-kit.js";

/** How the decision log shows the subject of an external JWT: subjects may be personal data. */
export const SUBJECT_MODES = ["plain", "hash", "omit"] as const;
export type SubjectMode = (typeof SUBJECT_MODES)[number];

const LOG_DEFAULTS = { subjects: "hash" as SubjectMode, allow_sample_rate: 0 };

/** A shorter key would make the keyed hash guessable by brute force over likely subjects. */
const MIN_KEY_BYTES = 32;

export const logSchema = section("Decision log ([audit and decision logs](audit-and-decision-logs.md)); the level is `log_level`.", {
  subjects: Type.Union(
    SUBJECT_MODES.map((mode) => Type.Literal(mode)),
    annotations(
      {
        env: "PORTCULLIS_LOG_SUBJECTS",
        default: LOG_DEFAULTS.subjects,
        description: "how decision lines show a JWT's subject: `plain`, `hash` (HMAC-SHA-256 with the key below) or `omit`",
      },
      `must be one of ${SUBJECT_MODES.join(", ")}`,
    ),
  ),
  subject_hash_key_file: text({
    env: "PORTCULLIS_LOG_SUBJECT_HASH_KEY_FILE",
    defaultText: "none: a random key per process (hashes do not correlate across replicas or restarts)",
    description: `file holding the key of the subject hash (at least ${MIN_KEY_BYTES} bytes; the same on every replica)`,
  }),
  allow_sample_rate: Type.Number({
    minimum: 0,
    maximum: 1,
    ...annotations(
      {
        env: "PORTCULLIS_LOG_ALLOW_SAMPLE_RATE",
        default: LOG_DEFAULTS.allow_sample_rate,
        description: "share of allows logged at `info` (0 to 1); denials are all logged, and at `debug` every allow is",
      },
      "must be a number from 0 to 1",
    ),
  }),
});

export interface DecisionLogSettings {
  subjects: SubjectMode;
  /** Absent: the wiring makes a random key for this process. */
  subjectHashKey?: Buffer;
  allowSampleRate: number;
}

export function decisionLogSettings(file: Static<typeof logSchema> = {}): DecisionLogSettings {
  const subjects = file.subjects ?? LOG_DEFAULTS.subjects;
  return {
    subjects,
    // Read only when it is used: a key file left behind does not stop a start in plain or omit mode.
    ...(file.subject_hash_key_file === undefined || subjects !== "hash" ? {} : { subjectHashKey: hashKey(file.subject_hash_key_file) }),
    allowSampleRate: file.allow_sample_rate ?? LOG_DEFAULTS.allow_sample_rate,
  };
}

/**
 * Only external issuers' subjects are hashed, so the warning comes only where
 * one is configured: a server with none has no subject to correlate.
 */
export function decisionLogWarnings(settings: DecisionLogSettings, externalIssuers: number): string[] {
  return settings.subjects === "hash" && settings.subjectHashKey === undefined && externalIssuers > 0
    ? [
        "log.subject_hash_key_file is not set: subjects in decision lines are hashed with a random key of this process, " +
          "so their hashes do not correlate across replicas or restarts",
      ]
    : [];
}

/** The key is a secret: neither its text nor the file's error text is echoed. */
function hashKey(path: string): Buffer {
  let key: Buffer;
  try {
    key = readFileSync(path);
  } catch {
    throw new InvalidArgumentError("log.subject_hash_key_file", `cannot be read: ${path}`);
  }
  const trimmed = Buffer.from(key.toString("latin1").trim(), "latin1");
  if (trimmed.length < MIN_KEY_BYTES) {
    throw new InvalidArgumentError("log.subject_hash_key_file", `must hold at least ${MIN_KEY_BYTES} bytes`);
  }
  return trimmed;
}
