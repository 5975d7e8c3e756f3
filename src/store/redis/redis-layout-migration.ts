import type { RedisKeys } from "./redis-keys.js";
import { scanEveryMaster } from "./redis-scan.js";
import { RedisScript } from "./redis-script.js";
import type { RedisClient } from "./redis-topology.js";

const parkLegacyRecord = new RedisScript("park-legacy-record.lua");

/** What a migration moved, for the log. */
export interface LayoutMigration {
  moved: number;
  /** Records whose new key existed already: the newer one is kept. */
  kept: number;
}

/**
 * Moves the per-record keys of the first layout (every key under the
 * prefix's one hash tag: `{portcullis}:token:<id>`, `…jti:<id>`,
 * `…oauth-state:<id>`) to their own hash tags (docs/storage.md), and drops
 * the old token index. Idempotent and safe to repeat or interrupt: each
 * record is first renamed to a parking key in its old slot (atomically), then
 * restored under its new key with the TTL it had left, then the parked copy
 * is deleted; a later run finishes records an earlier one left parked. The
 * store runs it on every start, so records a first-release replica wrote
 * during a rolling upgrade move at the next start.
 */
export async function migrateLegacyLayout(client: RedisClient, keys: RedisKeys): Promise<LayoutMigration> {
  const outcome: LayoutMigration = { moved: 0, kept: 0 };
  for (const kind of keys.legacy.kinds) {
    for (const pattern of [kind.parkedPattern, kind.pattern]) {
      await scanEveryMaster(client, pattern, async (_node, found) => {
        for (const key of found) {
          const parked = kind.parked(key);
          if ((await parkLegacyRecord.run(client, [key, parked], [])) !== 1) continue;
          const [dump, pttl] = await Promise.all([client.dumpBuffer(parked), client.pttl(parked)]);
          if (dump === null) continue;
          try {
            // PTTL -1: no expiry (RESTORE's 0).
            await client.restore(kind.target(key), Math.max(pttl, 0), dump);
            outcome.moved++;
          } catch (error) {
            if (!(error instanceof Error) || !error.message.startsWith("BUSYKEY")) throw error;
            outcome.kept++;
          }
          await client.del(parked);
        }
      });
    }
  }
  await client.del(keys.legacy.tokenIndex);
  return outcome;
}
