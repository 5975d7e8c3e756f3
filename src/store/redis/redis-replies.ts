import type { ChainableCommander } from "ioredis";

/** Runs a pipeline or MULTI batch and answers its replies; the first failed command throws. */
export async function execAll(batch: ChainableCommander): Promise<unknown[]> {
  const results = (await batch.exec()) ?? [];
  return results.map(([error, value]) => {
    if (error) throw error;
    return value;
  });
}

/** A flat HGETALL reply from a Lua script ([field, value, …]) as an object. */
export function pairsToObject(pairs: string[]): Record<string, string> {
  const object: Record<string, string> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) object[pairs[i]!] = pairs[i + 1]!;
  return object;
}
