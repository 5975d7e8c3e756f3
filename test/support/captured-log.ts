import type { Logger } from "pino";
import { createLogger } from "../../src/log.js";

export interface CapturedLog {
  readonly log: Logger;
  /** Every line written so far, as written. */
  text(): string;
  /** The lines parsed as JSON. */
  entries(): Record<string, unknown>[];
}

/** The service's own logger (masking included), writing into memory. */
export function captureLog(level = "debug"): CapturedLog {
  const lines: string[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(line) });
  return {
    log,
    text: () => lines.join(""),
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
