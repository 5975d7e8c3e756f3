import { pino, type DestinationStream, type Logger } from "pino";

/**
 * Credentials as they could appear in a log line: an Authorization value
 * (`Bearer <token>`), the user and password of a URL (`scheme://user:pw@`),
 * an opaque secret (`pcl_…`), a JWT (three base64url parts, the first a
 * JSON object).
 */
const CREDENTIAL =
  /(bearer\s+)[A-Za-z0-9\-._~+/]{16,}=*|\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'\\]+@|pcl_[A-Za-z0-9_-]{8,}|eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/gi;

/**
 * Something every match of CREDENTIAL holds. Most lines hold none of them,
 * and looking for these is several times cheaper than trying the whole
 * pattern at every position of the line.
 */
const CREDENTIAL_MARKER = /bearer|:\/\/|pcl_|eyj/i;

/** Masks credentials in one serialized log line. */
export function maskCredentials(line: string): string {
  if (!CREDENTIAL_MARKER.test(line)) return line;
  return line.replace(CREDENTIAL, (match, scheme: string | undefined, urlScheme: string | undefined) => {
    if (scheme !== undefined) return `${scheme}[redacted]`;
    if (urlScheme !== undefined) return `${urlScheme}[redacted]@`;
    return /^pcl_/i.test(match) ? "pcl_[redacted]" : "[redacted-jwt]";
  });
}

/**
 * JSON logs on stdout. Secrets are never passed to the logger; the redaction
 * list is a second line of defence for fields that could hold one, and
 * masking every written line a third, for what no field list can foresee:
 * a credential quoted in an error's message or stack.
 */
export function createLogger(level: string, destination: DestinationStream = pino.destination({ dest: 1, sync: false })): Logger {
  return pino(
    {
      level,
      base: { service: "portcullis" },
      redact: {
        // `err.command`: ioredis puts the failed command, every argument included, on its errors.
        paths: ["authorization", "token", "secret", "*.authorization", "*.token", "*.secret", "headers.authorization", "err.command"],
        censor: "[redacted]",
      },
    },
    { write: (line: string) => destination.write(maskCredentials(line)) },
  );
}
