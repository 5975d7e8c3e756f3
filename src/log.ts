import { pino, type Logger } from "pino";

/**
 * JSON logs on stdout. Secrets are never passed to the logger; the redaction
 * list is a second line of defence for fields that could hold one.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: "portcullis" },
    redact: {
      paths: ["authorization", "token", "secret", "*.authorization", "*.token", "*.secret", "headers.authorization"],
      censor: "[redacted]",
    },
  });
}
