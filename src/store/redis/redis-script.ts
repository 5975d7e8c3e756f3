import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { UnavailableError } from "../../errors.js";
import type { RedisClient } from "./redis-topology.js";

/** How many replicas must hold a write before it is acknowledged (`redis.wait_replicas`), and how long to wait for them. */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

export const NO_WAIT: Durability = { replicas: 0, timeoutMs: 0 };

/** One Lua file, run by its SHA (loaded on first NOSCRIPT). */
export class RedisScript {
  private readonly source: string;
  private readonly sha: string;

  constructor(fileName: string) {
    this.source = readFileSync(new URL(`./lua/${fileName}`, import.meta.url), "utf8");
    this.sha = createHash("sha1").update(this.source).digest("hex");
  }

  async run(client: RedisClient, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await client.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!isNoScript(error)) throw error;
      return client.eval(this.source, keys.length, ...keys, ...args);
    }
  }

  /**
   * Runs the script and, in the same pipeline (so on the same connection to
   * the same master), `WAIT` for `durability.replicas` replicas. A write
   * fewer replicas confirmed may vanish in a failover, so it is answered as
   * Unavailable even though the master applied it.
   */
  async runDurably(client: RedisClient, durability: Durability, keys: string[], args: (string | number)[]): Promise<unknown> {
    if (durability.replicas === 0) return this.run(client, keys, args);
    const attempt = async (useSha: boolean) => {
      const batch = client.pipeline();
      if (useSha) batch.evalsha(this.sha, keys.length, ...keys, ...args);
      else batch.eval(this.source, keys.length, ...keys, ...args);
      batch.wait(durability.replicas, durability.timeoutMs);
      return (await batch.exec()) ?? [];
    };
    let replies = await attempt(true);
    if (isNoScript(replies[0]?.[0])) replies = await attempt(false);
    const [[scriptError, reply] = [null, undefined], [waitError, confirmed] = [null, 0]] = replies;
    if (scriptError) throw scriptError;
    if (waitError) throw waitError;
    if (Number(confirmed) < durability.replicas) {
      throw new UnavailableError(
        `the write reached ${Number(confirmed)} of the ${durability.replicas} replica(s) redis.wait_replicas asks for within ${durability.timeoutMs} ms; a failover may undo it, so it is not acknowledged`,
        { reason: "redis_replicas" },
      );
    }
    return reply;
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("NOSCRIPT");
}
