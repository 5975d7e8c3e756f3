import type { DcrRecord } from "../model/dcr-record.js";

/**
 * How long a written entry lives whose secret has already expired: short,
 * yet long enough for a reader to see the expiry time it was given (the
 * same window ToolHive uses).
 */
export const PAST_EXPIRY_TTL_MS = 1000;

/**
 * Milliseconds until a record written at `nowMs` is evicted; undefined when
 * it is kept until deleted (a secret that never expires).
 */
export function dcrEvictionTtlMs(record: DcrRecord, nowMs: number): number | undefined {
  if (record.clientSecretExpiresAt === 0) return undefined;
  const remaining = record.clientSecretExpiresAt * 1000 - nowMs;
  return remaining > 0 ? remaining : PAST_EXPIRY_TTL_MS;
}
