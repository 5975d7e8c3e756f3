import { randomBytes } from "node:crypto";
import { startPortcullisProcess, type PortcullisProcess } from "./portcullis-process.js";
import { TEST_TOPOLOGIES, testRedisPrefix, topologyEnv, type TestTopology } from "./redis.js";

export interface Replicas {
  readonly servers: PortcullisProcess[];
  /** A root token every replica knows (from PORTCULLIS_ROOT_TOKENS). */
  readonly rootToken: string;
  /** The run's own Redis prefix; DCR entries live under `${prefix}dcr-ns:` unless overridden. */
  readonly prefix: string;
  stop(): Promise<void>;
}

/** Starts `count` server processes sharing one Redis (of `topology`, standalone unless named), as replicas of one deployment. */
export async function startReplicas(count: number, env: Record<string, string> = {}, topology: TestTopology = TEST_TOPOLOGIES[0]!): Promise<Replicas> {
  const { prefix, cleanup } = testRedisPrefix(topology.settings);
  const rootToken = randomBytes(32).toString("base64url");
  const started = await Promise.allSettled(
    Array.from({ length: count }, () =>
      startPortcullisProcess({
        env: {
          ...topologyEnv(topology),
          PORTCULLIS_REDIS_PREFIX: prefix,
          PORTCULLIS_DCR_REDIS_PREFIX: `${prefix}dcr-ns:`,
          PORTCULLIS_ROOT_TOKENS: rootToken,
          ...env,
        },
      }),
    ),
  );
  const servers = started.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  const failed = started.find((outcome) => outcome.status === "rejected");
  if (failed !== undefined) {
    // One replica that does not start leaves none of the others running.
    await Promise.all(servers.map((server) => server.stop()));
    await cleanup();
    throw failed.reason;
  }
  return {
    servers,
    rootToken,
    prefix,
    async stop() {
      await Promise.all(servers.map((server) => server.stop()));
      await cleanup();
    },
  };
}
