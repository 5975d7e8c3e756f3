import type { TestProject } from "vitest/node";
import { exitUnlessRedisServerInstalled } from "./redis-binary.js";
import { startOwnRedis } from "./redis-server.js";

declare module "vitest" {
  export interface ProvidedContext {
    /** The redis-server this test run started for itself (see test/support/redis.ts). */
    testRedisUrl: string;
  }
}

/**
 * One redis-server for the whole run, on a free port and a temp dir of its
 * own, so the tests never write into a Redis they did not start (whatever
 * listens on 6379 may hold someone's data). Vitest runs the returned
 * teardown after the last file, failed or not: the server stops and its
 * data dir is removed.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  exitUnlessRedisServerInstalled();
  const redis = await startOwnRedis();
  project.provide("testRedisUrl", redis.url);
  return () => redis.dispose();
}
