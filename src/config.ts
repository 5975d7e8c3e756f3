import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { envoySettings, type EnvoySettings, type EnvoySettingsFile } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
import { protectedResourceMetadata, type ProtectedResourceMetadata } from "./http/protected-resource.js";
import type { PolicyConfig } from "./policy/policy.js";
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
  commandTimeoutMs: number;
}

export interface Config {
  listen: { host: string; port: number };
  dataDir: string;
  redis?: RedisConfig;
  tokenPepper?: string;
  rootTokens: RootTokenConfig[];
  tokenFile?: string;
  policy: PolicyConfig;
  devAllowAll: boolean;
  logLevel: string;
  lastUsedIntervalMs: number;
  shutdownGraceMs: number;
  envoy: EnvoySettings;
  /** RFC 9728 metadata served at /.well-known/oauth-protected-resource; off when absent. */
  protectedResource?: ProtectedResourceMetadata;
}

/** The configuration file's shape (YAML or JSON), snake_case as written. */
interface ConfigFile {
  listen?: string;
  data_dir?: string;
  redis?: { url?: string; username?: string; password?: string; prefix?: string; command_timeout_ms?: number };
  token_pepper?: string;
  root_tokens?: { token: string; name?: string }[];
  token_file?: string;
  policy?: PolicyConfig;
  dev_allow_all?: boolean;
  log_level?: string;
  last_used_interval_ms?: number;
  shutdown_grace_ms?: number;
  envoy?: EnvoySettingsFile;
  protected_resource?: unknown;
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
  const envRootTokens = pick("PORTCULLIS_ROOT_TOKENS", undefined, (raw) =>
    raw.split(",").map((token, index) => ({ token: token.trim(), name: `env-root-${index + 1}` })),
  );
  return {
    listen: parseListen(pick("PORTCULLIS_LISTEN", file.listen, String) ?? "127.0.0.1:8080"),
    dataDir: pick("PORTCULLIS_DATA_DIR", file.data_dir, String) ?? "./data",
    redis:
      redisUrl === undefined
        ? undefined
        : {
            url: redisUrl,
            username: pick("REDIS_USERNAME", file.redis?.username, String),
            password: pick("REDIS_PASSWORD", file.redis?.password, String),
            prefix: pick("PORTCULLIS_REDIS_PREFIX", file.redis?.prefix, String) ?? DEFAULT_REDIS_PREFIX,
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
    policy: pick("PORTCULLIS_POLICY", file.policy, (raw) => parseYaml(raw) as PolicyConfig) ?? {},
    devAllowAll: pick("PORTCULLIS_DEV_ALLOW_ALL", file.dev_allow_all, flag) ?? false,
    logLevel: pick("PORTCULLIS_LOG_LEVEL", file.log_level, String) ?? "info",
    lastUsedIntervalMs:
      pick("PORTCULLIS_LAST_USED_INTERVAL_MS", file.last_used_interval_ms, positiveInt("PORTCULLIS_LAST_USED_INTERVAL_MS")) ??
      60_000,
    shutdownGraceMs:
      pick("PORTCULLIS_SHUTDOWN_GRACE_MS", file.shutdown_grace_ms, positiveInt("PORTCULLIS_SHUTDOWN_GRACE_MS")) ?? 10_000,
    envoy: envoySettings(file.envoy, pick, flag),
    protectedResource: optional(
      pick("PORTCULLIS_PROTECTED_RESOURCE", file.protected_resource, (raw) => parseYaml(raw) as unknown),
      (value) => protectedResourceMetadata("protected_resource", value),
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
  const parsed: unknown = parseYaml(text);
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new InvalidArgumentError("PORTCULLIS_CONFIG", `${path} must hold a mapping`);
  }
  return parsed as ConfigFile;
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
  const port = Number(match?.[3]);
  if (match === null || port > 65535) throw new InvalidArgumentError("PORTCULLIS_LISTEN", `expected host:port, got "${value}"`);
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function positiveInt(name: string) {
  return (raw: string | number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError(name, "must be a positive integer");
    return value;
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
