import type { EventEmitter } from "node:events";
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
export function createLogger(level: string, destination: DestinationStream = stdoutDestination()): Logger {
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

/**
 * Bytes per write to stdout. sonic-boom's default, 16 KiB, is one write per
 * turn of the event loop: a flood of denials (a line each) on a busy loop
 * outran it, and the backlog grew without bound (BENCHMARKS.md, memory).
 */
const STDOUT_MAX_WRITE = 1024 * 1024;

/** The backlog kept while stdout's reader lags; beyond it lines are dropped and counted, not kept until memory runs out. */
const STDOUT_MAX_BACKLOG = 64 * 1024 * 1024;

/** stdout, written without blocking the event loop, with a bounded backlog. */
export function stdoutDestination(): DestinationStream {
  return countingDrops(pino.destination({ dest: 1, sync: false, maxWrite: STDOUT_MAX_WRITE, maxLength: STDOUT_MAX_BACKLOG }));
}

/** A destination that refuses lines past its backlog, announcing each refusal with a `drop` event (sonic-boom). */
export interface DroppingDestination extends EventEmitter {
  write(line: string): unknown;
}

/**
 * Says how many lines were dropped, in a warning line written before the
 * next line once the destination takes lines again: a reader of the log
 * must know it has a gap.
 */
export function countingDrops(destination: DroppingDestination): DestinationStream {
  let dropped = 0;
  let notice: string | undefined;
  let noticed = 0;
  destination.on("drop", (line: unknown) => {
    // A dropped notice puts its count back: the next one says it.
    dropped += line === notice ? noticed : 1;
  });
  return {
    write(line: string) {
      if (dropped > 0) {
        noticed = dropped;
        dropped = 0;
        notice = `${JSON.stringify({ level: 40, time: Date.now(), service: "portcullis", droppedLines: noticed, msg: "log: lines dropped, stdout did not keep up" })}\n`;
        destination.write(notice);
      }
      destination.write(line);
    },
  };
}
