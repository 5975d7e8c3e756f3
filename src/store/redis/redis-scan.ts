import { Cluster, type Redis } from "ioredis";
import type { RedisClient } from "./redis-topology.js";
import { execAll } from "./redis-replies.js";

const SCAN_BATCH = 500;

/**
 * SCANs every master for keys matching `pattern` (a Cluster keeps each key on
 * one master; standalone and Sentinel have one) and hands each batch over
 * with the node that holds it, so the caller reads the batch on that node:
 * its keys may lie in many slots, which a multi-key command would refuse.
 * Memory stays bounded by the batch, whatever the keyspace's size.
 */
export async function scanEveryMaster(
  client: RedisClient,
  pattern: string,
  onBatch: (node: Redis, keys: string[]) => Promise<void>,
): Promise<void> {
  const masters = client instanceof Cluster ? client.nodes("master") : [client];
  for (const node of masters) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", SCAN_BATCH);
      cursor = next;
      if (keys.length > 0) await onBatch(node, keys);
    } while (cursor !== "0");
  }
}

/** GET of each key on one node, pipelined (one round trip, no CROSSSLOT). */
export async function getEach(node: Redis, keys: string[]): Promise<(string | null)[]> {
  const batch = node.pipeline();
  for (const key of keys) batch.get(key);
  return (await execAll(batch)) as (string | null)[];
}

/** HGETALL of each key on one node, pipelined. */
export async function hgetallEach(node: Redis, keys: string[]): Promise<Record<string, string>[]> {
  const batch = node.pipeline();
  for (const key of keys) batch.hgetall(key);
  return (await execAll(batch)) as Record<string, string>[];
}
