import { readConfigFile, type ConfigFile } from "./config-file.js";
import {
  checkedRootTokens,
  json,
  optional,
  parseEncryptionKey,
  parseListen,
  parseYamlQuietly,
  positiveInt,
  strictFlag,
  wholeNumber,
} from "./config-values.js";
import { parseJwtConfig, type JwtConfig } from "./credentials/jwt/issuer-config.js";
import { envoySettings, type EnvoySettings } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
import { DEFAULT_BUFFER_MAX_BYTES, DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION } from "./http/grpc-unary.js";
import { DEFAULT_LISTENER_LIMITS, type ListenerLimits } from "./http/listener.js";
import { protectedResourceMetadata, type ProtectedResourceMetadata } from "./http/protected-resource.js";
import type { PolicyConfig } from "./policy/policy.js";
import { DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS } from "./store/embedded/data-dir-lock.js";
import { DEFAULT_REDIS_PREFIX } from "./store/redis/redis-keys.js";

export interface RootTokenConfig {
  token: string;
  name: string;
}

export interface RedisConfig {
  url: string;
  username?: string;
  password?: string;
  prefix: string;
  /** Prefix of DCR entries; ToolHive's (`thv:auth:{<ns>:<name>}:`) to share them with it. */
  dcrPrefix: string;
  commandTimeoutMs: number;
}

export interface DcrConfig {
  /** Entries older than this come back marked stale. */
  staleAfterMs: number;
  /** AES-256 key sealing the secrets of DCR entries and pending flows; absent: stored plain, as ToolHive does. */
  encryptionKey?: Buffer;
  leaseTtlMs: number;
  awaitMaxMs: number;
  awaitPollMs: number;
}

export interface OAuthConfig {
  stateTtlMs: number;
  /** Upper bound for one request to an upstream authorization server. */
  httpTimeoutMs: number;
  /** Largest response body accepted from an upstream authorization server. */
  httpMaxBytes: number;
  discoveryCacheMs: number;
  /** Clock skew tolerated on an ID token's exp, nbf and iat. */
  idTokenLeewayS: number;
}

/** How much a client may hold open before its requests are complete (src/http/listener.ts, grpc-unary.ts). */
export interface HttpLimitsConfig extends ListenerLimits {
  /** Memory the lean gRPC path holds for request bodies at once, across every stream. */
  requestBufferMaxBytes: number;
  /** The same, for the streams of one HTTP/2 connection. */
  requestBufferMaxBytesPerConnection: number;
}

export interface Config {
  listen: { host: string; port: number };
  http: HttpLimitsConfig;
  dataDir: string;
  /** After this long without a refresh, a data dir lock counts as abandoned (a killed process's). */
  dataDirLockStaleMs: number;
  redis?: RedisConfig;
  tokenPepper?: string;
  rootTokens: RootTokenConfig[];
  tokenFile?: string;
  policy: PolicyConfig;
  jwt: JwtConfig;
  devAllowAll: boolean;
  logLevel: string;
  lastUsedIntervalMs: number;
  shutdownGraceMs: number;
  dcr: DcrConfig;
  oauth: OAuthConfig;
  envoy: EnvoySettings;
  /** RFC 9728 metadata served at /.well-known/oauth-protected-resource; off when absent. */
  protectedResource?: ProtectedResourceMetadata;
  /** Serve Prometheus metrics at GET /metrics. */
  metricsEnabled: boolean;
}

type Env = Record<string, string | undefined>;

/**
 * Settings come from the file named by PORTCULLIS_CONFIG, then environment
 * variables, which win. Every setting has both; README lists them.
 */
export function loadConfig(env: Env): Config {
  const file: ConfigFile = env.PORTCULLIS_CONFIG ? readConfigFile(env.PORTCULLIS_CONFIG) : {};
  const pick = <T>(envName: string, fromFile: T | undefined, parse: (raw: string) => T): T | undefined => {
    const raw = env[envName];
    return raw !== undefined && raw !== "" ? parse(raw) : fromFile;
  };
  const redisUrl = pick("REDIS_URL", file.redis?.url, String);
  if (redisUrl !== undefined && !/^rediss?:\/\//.test(redisUrl)) {
    throw new InvalidArgumentError("REDIS_URL", "must start with redis:// or rediss://");
  }
  if (file.root_tokens !== undefined && !Array.isArray(file.root_tokens)) {
    throw new InvalidArgumentError("root_tokens", "must be a list of {token, name} mappings");
  }
  const redisPrefix = pick("PORTCULLIS_REDIS_PREFIX", file.redis?.prefix, String) ?? DEFAULT_REDIS_PREFIX;
  // File values are checked too: a zero or negative timeout would fail open.
  const positive = (envName: string, fromFile: number | undefined, fallback: number) =>
    positiveInt(envName)(pick(envName, fromFile, Number) ?? fallback);
  const flag = (envName: string, fromFile: unknown, fallback: boolean) =>
    strictFlag(envName)(pick<unknown>(envName, fromFile, String) ?? fallback);
  const encryptionKey = pick("PORTCULLIS_DCR_ENCRYPTION_KEY", file.dcr?.encryption_key, String);
  const dataDirLockStaleMs = positive("PORTCULLIS_DATA_DIR_LOCK_STALE_MS", file.data_dir_lock_stale_ms, DEFAULT_LOCK_STALE_MS);
  if (dataDirLockStaleMs < MIN_LOCK_STALE_MS) {
    throw new InvalidArgumentError("PORTCULLIS_DATA_DIR_LOCK_STALE_MS", `must be at least ${MIN_LOCK_STALE_MS}`);
  }
  const envRootTokens = pick("PORTCULLIS_ROOT_TOKENS", undefined, (raw) =>
    raw.split(",").map((token, index) => ({ token: token.trim(), name: `env-root-${index + 1}` })),
  );
  return {
    listen: parseListen(pick("PORTCULLIS_LISTEN", file.listen, String) ?? "127.0.0.1:8080"),
    http: {
      maxConcurrentStreams: positive(
        "PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS",
        file.http?.max_concurrent_streams,
        DEFAULT_LISTENER_LIMITS.maxConcurrentStreams,
      ),
      requestReadTimeoutMs: positive(
        "PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS",
        file.http?.request_read_timeout_ms,
        DEFAULT_LISTENER_LIMITS.requestReadTimeoutMs,
      ),
      requestBufferMaxBytes: positive("PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES", file.http?.request_buffer_max_bytes, DEFAULT_BUFFER_MAX_BYTES),
      requestBufferMaxBytesPerConnection: positive(
        "PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES_PER_CONNECTION",
        file.http?.request_buffer_max_bytes_per_connection,
        DEFAULT_BUFFER_MAX_BYTES_PER_CONNECTION,
      ),
    },
    dataDir: pick("PORTCULLIS_DATA_DIR", file.data_dir, String) ?? "./data",
    dataDirLockStaleMs,
    redis:
      redisUrl === undefined
        ? undefined
        : {
            url: redisUrl,
            username: pick("REDIS_USERNAME", file.redis?.username, String),
            password: pick("REDIS_PASSWORD", file.redis?.password, String),
            prefix: redisPrefix,
            dcrPrefix: pick("PORTCULLIS_DCR_REDIS_PREFIX", file.redis?.dcr_prefix, String) ?? redisPrefix,
            commandTimeoutMs: positive("PORTCULLIS_REDIS_TIMEOUT_MS", file.redis?.command_timeout_ms, 2000),
          },
    tokenPepper: pick("PORTCULLIS_TOKEN_PEPPER", file.token_pepper, String),
    rootTokens: checkedRootTokens([
      ...(file.root_tokens ?? []).map((entry, index) => ({ token: entry.token, name: entry.name ?? `config-root-${index + 1}` })),
      ...(envRootTokens ?? []),
    ]),
    tokenFile: pick("PORTCULLIS_TOKEN_FILE", file.token_file, String),
    policy: pick("PORTCULLIS_POLICY", file.policy, (raw) => parseYamlQuietly(raw, "PORTCULLIS_POLICY") as PolicyConfig) ?? {},
    jwt: parseJwtConfig({
      issuers: pick("PORTCULLIS_JWT_ISSUERS", file.jwt?.issuers, json("PORTCULLIS_JWT_ISSUERS")),
      request_issuers: pick("PORTCULLIS_JWT_REQUEST_ISSUERS", file.jwt?.request_issuers, json("PORTCULLIS_JWT_REQUEST_ISSUERS")),
      team_tokens: {
        issuer: pick("PORTCULLIS_TEAM_TOKEN_ISSUER", file.jwt?.team_tokens?.issuer, String),
        audience: pick("PORTCULLIS_TEAM_TOKEN_AUDIENCE", file.jwt?.team_tokens?.audience, String),
        ttl_s: pick("PORTCULLIS_TEAM_TOKEN_TTL_S", file.jwt?.team_tokens?.ttl_s, positiveInt("PORTCULLIS_TEAM_TOKEN_TTL_S")),
        leeway_s: pick("PORTCULLIS_TEAM_TOKEN_LEEWAY_S", file.jwt?.team_tokens?.leeway_s, Number),
      },
    }),
    devAllowAll: flag("PORTCULLIS_DEV_ALLOW_ALL", file.dev_allow_all, false),
    logLevel: pick("PORTCULLIS_LOG_LEVEL", file.log_level, String) ?? "info",
    lastUsedIntervalMs: positive("PORTCULLIS_LAST_USED_INTERVAL_MS", file.last_used_interval_ms, 60_000),
    shutdownGraceMs: positive("PORTCULLIS_SHUTDOWN_GRACE_MS", file.shutdown_grace_ms, 10_000),
    dcr: {
      staleAfterMs: positive("PORTCULLIS_DCR_STALE_AFTER_S", file.dcr?.stale_after_s, 90 * 24 * 3600) * 1000,
      encryptionKey: encryptionKey === undefined ? undefined : parseEncryptionKey(encryptionKey),
      leaseTtlMs: positive("PORTCULLIS_DCR_LEASE_TTL_MS", file.dcr?.lease_ttl_ms, 30_000),
      awaitMaxMs: positive("PORTCULLIS_DCR_AWAIT_MAX_MS", file.dcr?.await_max_ms, 60_000),
      awaitPollMs: positive("PORTCULLIS_DCR_AWAIT_POLL_MS", file.dcr?.await_poll_ms, 100),
    },
    oauth: {
      stateTtlMs: positive("PORTCULLIS_OAUTH_STATE_TTL_MS", file.oauth?.state_ttl_ms, 600_000),
      httpTimeoutMs: positive("PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS", file.oauth?.http_timeout_ms, 5000),
      httpMaxBytes: positive("PORTCULLIS_OAUTH_HTTP_MAX_BYTES", file.oauth?.http_max_bytes, 1024 * 1024),
      discoveryCacheMs: positive("PORTCULLIS_OAUTH_DISCOVERY_CACHE_MS", file.oauth?.discovery_cache_ms, 600_000),
      idTokenLeewayS:
        wholeNumber(
          "PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S",
          pick<unknown>("PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S", file.oauth?.id_token_leeway_s, String),
          true,
        ) ?? 30,
    },
    envoy: envoySettings(file.envoy, pick, flag),
    protectedResource: optional(
      pick("PORTCULLIS_PROTECTED_RESOURCE", file.protected_resource, (raw) => parseYamlQuietly(raw, "PORTCULLIS_PROTECTED_RESOURCE")),
      (value) => protectedResourceMetadata("protected_resource", value),
    ),
    metricsEnabled: flag("PORTCULLIS_METRICS_ENABLED", file.metrics?.enabled, true),
  };
}

