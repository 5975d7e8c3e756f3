import { Cluster, Redis, type ClusterOptions, type RedisOptions } from "ioredis";
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { InvalidArgumentError } from "../../errors.js";

export interface HostPort {
  host: string;
  port: number;
}

/** Sentinel: the sentinels to ask, the name of the monitored master, and the sentinels' own credentials. */
export interface SentinelSettings {
  sentinels: HostPort[];
  name: string;
  username?: string;
  password?: string;
}

/** Where Redis is: exactly one of `url`, `sentinel` and `clusterNodes` is set. */
export interface RedisSettings {
  url?: string;
  sentinel?: SentinelSettings;
  clusterNodes?: HostPort[];
  /** Sentinel and Cluster: speak TLS (a URL says so with `rediss://`). */
  tls?: boolean;
  username?: string;
  password?: string;
  /** Upper bound for one command; a slower Redis counts as unavailable. */
  commandTimeoutMs: number;
  /** TLS: PEM file of the CAs the server's certificate must chain to. */
  tlsCaFile?: string;
}

/** A client of any topology: both speak every command Portcullis sends. */
export type RedisClient = Redis | Cluster;

export type Topology = "standalone" | "sentinel" | "cluster";

export function topologyOf(settings: RedisSettings): Topology {
  return settings.clusterNodes !== undefined ? "cluster" : settings.sentinel !== undefined ? "sentinel" : "standalone";
}

/**
 * Options every connection shares: no offline queue and no retries of a
 * command, so that while no master is reachable a call fails at once (and a
 * decision answers Unavailable) instead of piling up; reconnecting goes on in
 * the background, so service resumes without a restart.
 */
function commonOptions(settings: RedisSettings): RedisOptions {
  return {
    ...tlsOptions(settings),
    username: settings.username,
    password: settings.password,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: Math.min(settings.commandTimeoutMs, 5000),
    commandTimeout: settings.commandTimeoutMs,
    // A master demoted by a failover answers READONLY: reconnecting finds the new one.
    reconnectOnError: (error) => error.message.startsWith("READONLY"),
  };
}

const retryStrategy = (maxDelayMs: number) => (attempt: number) => Math.min(100 * attempt, maxDelayMs);

/** The command client of the configured topology. */
export function createRedisClient(settings: RedisSettings): RedisClient {
  if (settings.clusterNodes !== undefined) {
    const options: ClusterOptions = {
      redisOptions: commonOptions(settings),
      enableOfflineQueue: false,
      scaleReads: "master",
      clusterRetryStrategy: retryStrategy(2000),
      // Commands refused while slots move to a promoted replica fail fast (Unavailable) rather than wait.
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      retryDelayOnTryAgain: 100,
      maxRedirections: 4,
      slotsRefreshTimeout: Math.min(settings.commandTimeoutMs, 2000),
      slotsRefreshInterval: 2000,
    };
    return new Cluster(settings.clusterNodes, options);
  }
  return standaloneOrSentinel(settings, { retryStrategy: retryStrategy(2000) });
}

/**
 * A connection for SUBSCRIBE. With Sentinel it follows the master like the
 * command client. On a Cluster every node delivers every PUBLISH, so it is a
 * plain connection to one node: the `node`-th of the configured ones
 * (counting round), which the caller moves on from when that node is gone.
 */
export function createSubscriberConnection(settings: RedisSettings, node: number): Redis {
  const own: RedisOptions = { autoResubscribe: false };
  if (settings.clusterNodes !== undefined) {
    const target = settings.clusterNodes[node % settings.clusterNodes.length]!;
    return new Redis({ ...commonOptions(settings), ...own, host: target.host, port: target.port, retryStrategy: () => null });
  }
  return standaloneOrSentinel(settings, { ...own, retryStrategy: retryStrategy(1000) });
}

function standaloneOrSentinel(settings: RedisSettings, extra: RedisOptions): Redis {
  const options = { ...commonOptions(settings), ...extra };
  const { sentinel } = settings;
  if (sentinel === undefined) return new Redis(settings.url ?? "redis://127.0.0.1:6379", options);
  return new Redis({
    ...options,
    sentinels: sentinel.sentinels,
    name: sentinel.name,
    role: "master",
    sentinelUsername: sentinel.username,
    sentinelPassword: sentinel.password,
    enableTLSForSentinelMode: settings.tls === true,
    ...(settings.tls === true ? { sentinelTLS: options.tls as ConnectionOptions } : {}),
    // Hears +switch-master from the sentinels and reconnects at once instead of at the next error.
    failoverDetector: true,
    sentinelRetryStrategy: retryStrategy(1000),
  });
}

/**
 * A `rediss://` URL (or `tls` with Sentinel or Cluster) makes ioredis verify
 * the server against the system's CAs; a private CA replaces them. The host
 * name (or IP) is still checked against the certificate.
 */
function tlsOptions(settings: RedisSettings): Pick<RedisOptions, "tls"> {
  const wantsTls = settings.tls === true || (settings.url !== undefined && /^rediss:/i.test(settings.url));
  if (settings.tlsCaFile === undefined) return wantsTls && settings.url === undefined ? { tls: { rejectUnauthorized: true } } : {};
  let ca: Buffer;
  try {
    ca = readFileSync(settings.tlsCaFile);
  } catch (error) {
    throw new InvalidArgumentError("redis.tls_ca_file", `cannot read ${settings.tlsCaFile} (${(error as NodeJS.ErrnoException).code ?? "unreadable"})`);
  }
  return { tls: { ca, rejectUnauthorized: true } };
}
