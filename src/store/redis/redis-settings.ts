import { Type, type Static } from "@sinclair/typebox";
import { InvalidArgumentError } from "../../errors.js";
import { annotations, positiveInteger, section, switchSetting, isOn, text, textList, wholeNumber } from "../../settings-schema/schema-kit.js";
import { DEFAULT_REDIS_PREFIX } from "./redis-keys.js";
import type { HostPort, RedisSettings } from "./redis-topology.js";

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_WAIT_TIMEOUT_MS = 500;

export const redisSchema = section(
  "Shared state for many replicas. Without this section (and without REDIS_URL) the embedded store is used. Name exactly one topology: `url` (standalone), `sentinels` or `cluster_nodes` (docs/redis-topologies.md).",
  {
    url: Type.String({
      pattern: "^rediss?://",
      ...annotations(
        { env: "REDIS_URL", defaultText: "unset: embedded store", description: "standalone Redis URL (`redis://` or `rediss://`); selects the Redis store" },
        "must start with redis:// or rediss://",
      ),
    }),
    sentinels: textList({
      env: "PORTCULLIS_REDIS_SENTINELS",
      envFormat: "list",
      description: "Sentinel: the sentinels as `host:port` (comma-separated in the variable); needs `sentinel_name`",
    }),
    sentinel_name: text({ env: "PORTCULLIS_REDIS_SENTINEL_NAME", description: "Sentinel: the name of the monitored master" }),
    sentinel_username: text({ env: "PORTCULLIS_REDIS_SENTINEL_USERNAME", description: "Sentinel: ACL username on the sentinels" }),
    sentinel_password: text({ env: "PORTCULLIS_REDIS_SENTINEL_PASSWORD", description: "Sentinel: password on the sentinels" }),
    cluster_nodes: textList({
      env: "PORTCULLIS_REDIS_CLUSTER_NODES",
      envFormat: "list",
      description: "Cluster: some of its nodes as `host:port` (comma-separated in the variable); the rest are discovered",
    }),
    tls: switchSetting({
      env: "PORTCULLIS_REDIS_TLS",
      default: false,
      description: "Sentinel and Cluster: speak TLS to every node (and sentinel); with `url` the scheme `rediss://` says so",
    }),
    username: text({ env: "REDIS_USERNAME", description: "Redis ACL username (of the data nodes)" }),
    password: text({ env: "REDIS_PASSWORD", description: "Redis password (of the data nodes)" }),
    prefix: text({
      env: "PORTCULLIS_REDIS_PREFIX",
      default: DEFAULT_REDIS_PREFIX,
      description: "Redis key prefix; its `{hash tag}` holds the few shared records, per-record keys drop the braces and take a tag of their own (docs/storage.md)",
    }),
    dcr_prefix: text({
      env: "PORTCULLIS_DCR_REDIS_PREFIX",
      defaultText: "the Redis key prefix",
      description: "prefix of DCR entries; ToolHive's (`thv:auth:{<ns>:<name>}:`) to share them with it",
    }),
    tls_ca_file: text({
      env: "PORTCULLIS_REDIS_TLS_CA_FILE",
      defaultText: "none: the system's CAs",
      description: "PEM file of the CA certificates the servers' certificates must chain to (a private CA); only with TLS",
    }),
    command_timeout_ms: positiveInteger({
      env: "PORTCULLIS_REDIS_TIMEOUT_MS",
      default: DEFAULT_COMMAND_TIMEOUT_MS,
      description: "Redis command timeout (ms); slower counts as unavailable",
    }),
    wait_replicas: wholeNumber({
      env: "PORTCULLIS_REDIS_WAIT_REPLICAS",
      defaultText: "1 with `sentinels` or `cluster_nodes`, 0 with `url`",
      description: "replicas that must confirm a mint, revocation, team rotation or key retirement (`WAIT`) before it is acknowledged; fewer answers Unavailable",
    }),
    wait_timeout_ms: positiveInteger({
      env: "PORTCULLIS_REDIS_WAIT_TIMEOUT_MS",
      defaultText: "500, at most half of `command_timeout_ms`",
      description: "how long a write waits for `wait_replicas` confirmations (ms); below `command_timeout_ms`",
    }),
  },
);

export interface RedisConfig extends RedisSettings {
  prefix: string;
  /** Prefix of DCR entries; ToolHive's (`thv:auth:{<ns>:<name>}:`) to share them with it. */
  dcrPrefix: string;
  /** Replicas that must confirm an acknowledged revocation, mint, rotation or retirement. */
  waitReplicas: number;
  waitTimeoutMs: number;
}

export function redisConfig(file: Static<typeof redisSchema> | undefined): RedisConfig | undefined {
  if (file === undefined) return undefined;
  const topologies = (["url", "sentinels", "cluster_nodes"] as const).filter((key) => file[key] !== undefined);
  if (topologies.length !== 1) {
    throw new InvalidArgumentError(
      "redis",
      topologies.length === 0
        ? "names no Redis: set one of url, sentinels or cluster_nodes"
        : `names more than one topology (${topologies.join(", ")}); set exactly one of url, sentinels or cluster_nodes`,
    );
  }
  const sentinelKeys = (["sentinel_name", "sentinel_username", "sentinel_password"] as const).filter((key) => file[key] !== undefined);
  if (file.sentinels === undefined && sentinelKeys.length > 0) {
    throw new InvalidArgumentError(`redis.${sentinelKeys[0]}`, "applies only with redis.sentinels");
  }
  if (file.sentinels !== undefined && file.sentinel_name === undefined) {
    throw new InvalidArgumentError("redis.sentinel_name", "is needed with redis.sentinels: the name of the master the sentinels monitor");
  }
  if (file.url !== undefined && file.tls !== undefined) {
    // Two answers to one question: the URL's scheme already says whether to speak TLS.
    throw new InvalidArgumentError("redis.tls", "applies only with sentinels or cluster_nodes; with url use rediss://");
  }
  const tls = file.url !== undefined ? /^rediss:/i.test(file.url) : isOn(file.tls, false);
  if (file.tls_ca_file !== undefined && !tls) {
    // Taken silently, the CA would suggest an encrypted connection that is not there.
    throw new InvalidArgumentError(
      "redis.tls_ca_file",
      file.url !== undefined ? "needs a rediss:// url (TLS); redis.url is redis://" : "needs redis.tls: true",
    );
  }
  const commandTimeoutMs = file.command_timeout_ms ?? DEFAULT_COMMAND_TIMEOUT_MS;
  // By default at most half the command timeout, so a short command timeout needs no second setting.
  const waitTimeoutMs = file.wait_timeout_ms ?? Math.max(1, Math.min(DEFAULT_WAIT_TIMEOUT_MS, Math.floor(commandTimeoutMs / 2)));
  if (waitTimeoutMs >= commandTimeoutMs) {
    throw new InvalidArgumentError("redis.wait_timeout_ms", `must be below redis.command_timeout_ms (${commandTimeoutMs}): the WAIT is a command too`);
  }
  const prefix = file.prefix ?? DEFAULT_REDIS_PREFIX;
  return {
    url: file.url,
    sentinel:
      file.sentinels === undefined
        ? undefined
        : {
            sentinels: file.sentinels.map((entry, index) => hostPort(`redis.sentinels[${index}]`, entry)),
            name: file.sentinel_name!,
            username: file.sentinel_username,
            password: file.sentinel_password,
          },
    clusterNodes: file.cluster_nodes?.map((entry, index) => hostPort(`redis.cluster_nodes[${index}]`, entry)),
    tls: file.url === undefined ? tls : undefined,
    username: file.username,
    password: file.password,
    prefix,
    dcrPrefix: file.dcr_prefix ?? prefix,
    commandTimeoutMs,
    tlsCaFile: file.tls_ca_file,
    waitReplicas: file.wait_replicas ?? (file.url === undefined ? 1 : 0),
    waitTimeoutMs,
  };
}

const HOST_PORT = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/** `host:port` or `[v6-address]:port`. */
function hostPort(at: string, entry: string): HostPort {
  const match = HOST_PORT.exec(entry.trim());
  const port = Number(match?.[3]);
  if (match === null || port < 1 || port > 65535) {
    throw new InvalidArgumentError(at, "must be host:port (an IPv6 address in brackets), the port 1 to 65535");
  }
  return { host: match[1] ?? match[2]!, port };
}
