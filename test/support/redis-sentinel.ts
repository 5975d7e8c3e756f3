import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { eventually } from "./eventually.js";
import { freePort, launchRedisServer, stopProcess } from "./redis-server.js";

/** A real Sentinel group: one master, one replica, three sentinels, on free ports. */
export interface RedisSentinelFixture {
  /** The sentinels as `127.0.0.1:<port>`: what `redis.sentinels` takes. */
  readonly sentinels: string[];
  /** The monitored master's name. */
  readonly name: string;
  /** The port of the master the sentinels name now. */
  masterPort(): Promise<number>;
  /** SIGKILLs the data node on `port`, as a crash does. */
  kill(port: number): Promise<void>;
  /** Freezes the data node on `port` (SIGSTOP): its connections stay open, nothing answers. */
  freeze(port: number): void;
  /** Lets a frozen node run again (SIGCONT). */
  thaw(port: number): void;
  dispose(): Promise<void>;
}

const NAME = "portcullis-test";
/** How long a silent master takes to count as down (`down-after-milliseconds`). */
const DOWN_AFTER_MS = 1000;

export async function startRedisSentinelGroup(): Promise<RedisSentinelFixture> {
  const dir = await mkdtemp(join(tmpdir(), "portcullis-sentinel-"));
  const children = new Map<number, ChildProcess>();
  const dispose = async () => {
    await Promise.all([...children.values()].map((child) => stopProcess(child, "SIGKILL")));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const masterPort = await freePort();
    const replicaPort = await freePort();
    const common = ["--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"];
    children.set(masterPort, await launchRedisServer(["--port", String(masterPort), ...common]));
    children.set(replicaPort, await launchRedisServer(["--port", String(replicaPort), ...common, "--replicaof", "127.0.0.1", String(masterPort)]));
    const sentinelPorts: number[] = [];
    for (let index = 0; index < 3; index++) {
      const port = await freePort();
      sentinelPorts.push(port);
      // A sentinel rewrites its configuration file, so each gets one of its own.
      const config = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        config,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
          `sentinel failover-timeout ${NAME} 10000`,
          `sentinel parallel-syncs ${NAME} 1`,
          "",
        ].join("\n"),
      );
      children.set(port, await launchRedisServer([config, "--sentinel"], "Sentinel ID is"));
    }
    // A failover needs the sentinels to know the replica and each other (learnt from hello messages every 2 s).
    await eventually(async () => {
      for (const port of sentinelPorts) {
        const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
        try {
          const replicas = (await client.call("SENTINEL", "REPLICAS", NAME).catch(() => [])) as unknown[];
          const peers = (await client.call("SENTINEL", "SENTINELS", NAME).catch(() => [])) as unknown[];
          if (replicas.length < 1 || peers.length < 2) return false;
        } finally {
          client.disconnect();
        }
      }
      return true;
    }, 30_000);
    const sentinels = sentinelPorts.map((port) => `127.0.0.1:${port}`);
    return {
      sentinels,
      name: NAME,
      async masterPort() {
        const client = new Redis({ port: sentinelPorts[0], host: "127.0.0.1", lazyConnect: true });
        try {
          const [, port] = (await client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", NAME)) as [string, string];
          return Number(port);
        } finally {
          client.disconnect();
        }
      },
      async kill(port) {
        await stopProcess(children.get(port), "SIGKILL");
      },
      freeze: (port) => children.get(port)?.kill("SIGSTOP"),
      thaw: (port) => children.get(port)?.kill("SIGCONT"),
      dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}
