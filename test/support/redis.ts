import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { inject } from "vitest";

/** The redis-server started for this test run (test/support/redis-global-setup.ts). */
export const TEST_REDIS_URL = inject("testRedisUrl");

/** A key prefix of this test run's own (hash-tagged like production) and a way to remove its keys. */
export function testRedisPrefix(): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `{pcl-test-${randomBytes(6).toString("hex")}}:`;
  return {
    prefix,
    async cleanup() {
      const client = new Redis(TEST_REDIS_URL);
      try {
        // Shared records under the prefix, per-record keys under it without its braces (docs/storage.md).
        for (const pattern of [`${prefix}*`, `${prefix.replace(/[{}]/g, "")}*`]) {
          let cursor = "0";
          do {
            const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 500);
            cursor = next;
            if (keys.length > 0) await client.del(...keys);
          } while (cursor !== "0");
        }
      } finally {
        client.disconnect();
      }
    },
  };
}
