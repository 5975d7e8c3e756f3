/**
 * Redis commands a run caused, from `INFO commandstats` before and after:
 * the store's real cost per decision, whatever client-side batching hides.
 */
import { Redis } from "ioredis";

/** Calls per command (lower case) from the text of `INFO commandstats`. */
export function parseCommandstats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const [, command, count] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(command!.toLowerCase(), Number(count));
  return calls;
}

/** Calls per command between two readings; the bench's own `info` calls are left out. Commands with no calls are omitted. */
export function commandsDelta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [command, count] of after) {
    if (command === "info") continue;
    const calls = count - (before.get(command) ?? 0);
    if (calls > 0) delta[command] = calls;
  }
  return delta;
}

export async function readCommandstats(redis: Redis): Promise<Map<string, number>> {
  return parseCommandstats(await redis.info("commandstats"));
}
