import { execFile, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { eventually } from "./eventually.js";
import { freePort, launchRedisServer, stopProcess } from "./redis-server.js";

const run = promisify(execFile);

/** A real Redis Cluster of 3 masters and (unless asked otherwise) 3 replicas on free ports, sharing one data dir with per-node file names. */
export interface RedisClusterFixture {
  /** Every node as `127.0.0.1:<port>`: what `redis.cluster_nodes` takes. */
  readonly nodes: string[];
  /** The ports of the nodes that are masters now. */
  masterPorts(): Promise<number[]>;
  /** How many of `keys` each master holds now, by port. */
  distribution(keys: string[]): Promise<Map<number, number>>;
  /** SIGKILLs the node on `port`, as a crash does. */
  kill(port: number): Promise<void>;
  /** Freezes the node on `port` (SIGSTOP): its connections stay open, nothing answers. */
  freeze(port: number): void;
  /** Lets a frozen node run again (SIGCONT). */
  thaw(port: number): void;
  /** Waits until every live node reports `cluster_state:ok`. */
  healthy(timeoutMs: number): Promise<void>;
  dispose(): Promise<void>;
}

/** How fast a dead master is noticed and a replica promoted (`cluster-node-timeout`). */
const NODE_TIMEOUT_MS = 1000;

/** A cluster that asks an ACL user's password; `replicas: 0` for 3 masters alone. */
export interface RedisClusterOptions {
  /** An ACL user (with every permission) the nodes require; redis-cli and the fixture log in as it. */
  user?: { name: string; password: string };
  replicas?: 0 | 1;
}

export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisClusterFixture> {
  const { user, replicas = 1 } = options;
  const dir = await mkdtemp(join(tmpdir(), "portcullis-cluster-"));
  const ports: number[] = [];
  const children = new Map<number, ChildProcess>();
  /** Frozen nodes keep their connections open and answer nothing: the fixture asks the others. */
  const frozen = new Set<number>();
  const reachable = (port: number) => alive(children.get(port)) && !frozen.has(port);
  const dispose = async () => {
    await Promise.all([...children.values()].map((child) => stopProcess(child, "SIGKILL")));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const acl = user === undefined ? [] : ["--user", user.name, "on", `>${user.password}`, "~*", "&*", "+@all", "--masteruser", user.name, "--masterauth", user.password];
    for (let index = 0; index < (replicas === 1 ? 6 : 3); index++) {
      const port = await freePort();
      ports.push(port);
      const child = await launchRedisServer([
        "--port", String(port), ...acl, "--bind", "127.0.0.1", "--dir", dir,
        "--cluster-enabled", "yes", "--cluster-config-file", `nodes-${port}.conf`,
        "--cluster-node-timeout", String(NODE_TIMEOUT_MS),
        "--save", "", "--appendonly", "yes", "--appendfilename", `appendonly-${port}.aof`, "--appenddirname", `aof-${port}`,
      ]);
      children.set(port, child);
    }
    const nodes = ports.map((port) => `127.0.0.1:${port}`);
    const cliAuth = user === undefined ? [] : ["--user", user.name, "--pass", user.password];
    await run("redis-cli", [...cliAuth, "--cluster", "create", ...nodes, "--cluster-replicas", String(replicas), "--cluster-yes"], { timeout: 30_000 }).catch(
      (error: { stdout?: string; stderr?: string }) => {
        throw new Error(`redis-cli --cluster create failed:\n${error.stdout ?? ""}${error.stderr ?? ""}`);
      },
    );
    const connect = (port: number) =>
      new Redis({
        port,
        host: "127.0.0.1",
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        username: user?.name,
        password: user?.password,
      });
    const fixture: RedisClusterFixture = {
      nodes,
      async masterPorts() {
        return (await clusterNodes(connect(ports.find(reachable)!)))
          .filter((node) => node.master && !node.failed)
          .map((node) => node.port);
      },
      async distribution(keys) {
        const counts = new Map<number, number>();
        const owners = await slotOwners(connect(ports.find(reachable)!));
        const probe = connect(ports.find(reachable)!);
        try {
          for (const key of keys) {
            const slot = Number(await probe.cluster("KEYSLOT", key));
            const owner = owners.find((range) => slot >= range.from && slot <= range.to)!.port;
            counts.set(owner, (counts.get(owner) ?? 0) + 1);
          }
        } finally {
          probe.disconnect();
        }
        return counts;
      },
      async kill(port) {
        await stopProcess(children.get(port), "SIGKILL");
      },
      freeze(port) {
        frozen.add(port);
        children.get(port)?.kill("SIGSTOP");
      },
      thaw(port) {
        children.get(port)?.kill("SIGCONT");
        frozen.delete(port);
      },
      async healthy(timeoutMs) {
        await eventually(async () => {
          for (const port of ports.filter(reachable)) {
            const client = connect(port);
            try {
              const info = String(await client.cluster("INFO").catch(() => ""));
              if (!info.includes("cluster_state:ok")) return false;
            } finally {
              client.disconnect();
            }
          }
          return true;
        }, timeoutMs);
      },
      dispose,
    };
    await fixture.healthy(20_000);
    return fixture;
  } catch (error) {
    await dispose();
    throw error;
  }
}

function alive(child: ChildProcess | undefined): boolean {
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

interface ClusterNode {
  port: number;
  master: boolean;
  failed: boolean;
  slots: string[];
}

/** CLUSTER NODES as this node sees it; closes `client`. */
async function clusterNodes(client: Redis): Promise<ClusterNode[]> {
  try {
    const text = String(await client.cluster("NODES"));
    return text.trim().split("\n").map((line) => {
      const [, address, flags, , , , , , ...slots] = line.split(" ");
      return { port: Number(address!.split("@")[0]!.split(":")[1]), master: flags!.includes("master"), failed: flags!.includes("fail"), slots };
    });
  } finally {
    client.disconnect();
  }
}

async function slotOwners(client: Redis): Promise<{ from: number; to: number; port: number }[]> {
  return (await clusterNodes(client))
    .filter((node) => node.master && !node.failed)
    .flatMap((node) =>
      node.slots.filter((range) => !range.startsWith("[")).map((range) => {
        const [from, to = from] = range.split("-");
        return { from: Number(from), to: Number(to), port: node.port };
      }),
    );
}
