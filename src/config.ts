import { readFileSync } from "node:fs";
import { parse as parseYaml, YAMLError } from "yaml";
import { parseJwtConfig, type JwtConfig, type JwtFileConfig } from "./credentials/jwt/issuer-config.js";
import { envoySettings, type EnvoySettings, type EnvoySettingsFile } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
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
}

export interface Config {
  listen: { host: string; port: number };
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

/** The configuration file's shape (YAML or JSON), snake_case as written. */
interface ConfigFile {
  listen?: string;
  data_dir?: string;
  data_dir_lock_stale_ms?: number;
  redis?: {
    url?: string;
    username?: string;
    password?: string;
    prefix?: string;
    dcr_prefix?: string;
    command_timeout_ms?: number;
  };
  token_pepper?: string;
  root_tokens?: { token: string; name?: string }[];
  token_file?: string;
  policy?: PolicyConfig;
  jwt?: JwtFileConfig;
  dev_allow_all?: boolean;
  log_level?: string;
  last_used_interval_ms?: number;
  shutdown_grace_ms?: number;
  dcr?: {
    stale_after_s?: number;
    encryption_key?: string;
    lease_ttl_ms?: number;
    await_max_ms?: number;
    await_poll_ms?: number;
  };
  oauth?: { state_ttl_ms?: number; http_timeout_ms?: number; http_max_bytes?: number; discovery_cache_ms?: number };
  envoy?: EnvoySettingsFile;
  protected_resource?: unknown;
  metrics?: { enabled?: boolean };
}

type Env = Record<string, string | undefined>;

/**
 * Settings come from the file named by PORTCULLIS_CONFIG, then environment
 * variables, which win. Every setting has both; README lists them.
 */
export function loadConfig(env: Env): Config {
  const file = env.PORTCULLIS_CONFIG ? readConfigFile(env.PORTCULLIS_CONFIG) : {};
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
            commandTimeoutMs:
              pick("PORTCULLIS_REDIS_TIMEOUT_MS", file.redis?.command_timeout_ms, positiveInt("PORTCULLIS_REDIS_TIMEOUT_MS")) ??
              2000,
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
    devAllowAll: pick("PORTCULLIS_DEV_ALLOW_ALL", file.dev_allow_all, flag) ?? false,
    logLevel: pick("PORTCULLIS_LOG_LEVEL", file.log_level, String) ?? "info",
    lastUsedIntervalMs:
      pick("PORTCULLIS_LAST_USED_INTERVAL_MS", file.last_used_interval_ms, positiveInt("PORTCULLIS_LAST_USED_INTERVAL_MS")) ??
      60_000,
    shutdownGraceMs:
      pick("PORTCULLIS_SHUTDOWN_GRACE_MS", file.shutdown_grace_ms, positiveInt("PORTCULLIS_SHUTDOWN_GRACE_MS")) ?? 10_000,
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
    },
    envoy: envoySettings(file.envoy, pick, flag),
    protectedResource: optional(
      pick("PORTCULLIS_PROTECTED_RESOURCE", file.protected_resource, (raw) => parseYamlQuietly(raw, "PORTCULLIS_PROTECTED_RESOURCE")),
      (value) => protectedResourceMetadata("protected_resource", value),
    ),
    // File values are checked too: `enabled: "no"` must not count as on.
    metricsEnabled: strictFlag("PORTCULLIS_METRICS_ENABLED")(
      pick<string | boolean>("PORTCULLIS_METRICS_ENABLED", file.metrics?.enabled, String) ?? true,
    ),
  };
}

function flag(raw: string): boolean {
  return raw === "true" || raw === "1";
}

function optional<T, U>(value: T | undefined, check: (value: T) => U): U | undefined {
  return value === undefined || value === null ? undefined : check(value);
}

function readConfigFile(path: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `cannot read ${path}: ${(error as NodeJS.ErrnoException).code}`);
  }
  const parsed = parseYamlQuietly(text, "PORTCULLIS_CONFIG", path);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `${path} must hold a mapping`);
  }
  return parsed as ConfigFile;
}

/**
 * YAML's own error messages quote the offending lines, which may hold a root
 * token or a password; only the position is reported.
 */
function parseYamlQuietly(text: string, field: string, path?: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    const position = error instanceof YAMLError && error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : "";
    throw new InvalidArgumentError(field, `${path ?? "value"} is not valid YAML${position}`);
  }
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError("PORTCULLIS_LISTEN", `expected host:port, got "${value}"`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

/** A switch that defaults to on: a typo must not silently turn it off. */
function strictFlag(name: string) {
  return (raw: unknown): boolean => {
    if (raw === true || raw === "true" || raw === "1") return true;
    if (raw === false || raw === "false" || raw === "0") return false;
    throw new InvalidArgumentError(name, "must be true or false");
  };
}

function positiveInt(name: string) {
  return (raw: string | number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(name, "must be a positive integer");
    return value;
  };
}

/** 32 bytes, base64 or base64url. The value is never echoed: it is a secret. */
function parseEncryptionKey(raw: string): Buffer {
  const text = raw.trim();
  const key = Buffer.from(text, "base64");
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text) || key.length !== 32) {
    throw new InvalidArgumentError("PORTCULLIS_DCR_ENCRYPTION_KEY", "must be 32 bytes, base64-encoded");
  }
  return key;
}

function json(name: string) {
  return (raw: string): unknown => {
    try {
      return JSON.parse(raw);
    } catch {
      throw new InvalidArgumentError(name, "must be JSON");
    }
  };
}

function checkedRootTokens(tokens: RootTokenConfig[]): RootTokenConfig[] {
  tokens.forEach((entry, index) => {
    if (typeof entry.token !== "string" || entry.token.length < 32) {
      // The value itself is never echoed: it is a secret.
      throw new InvalidArgumentError(`root_tokens[${index}]`, "token must be a string of at least 32 characters");
    }
  });
  return tokens;
}
