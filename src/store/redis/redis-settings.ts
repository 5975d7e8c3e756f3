import { Type, type Static } from "@sinclair/typebox";
import { InvalidArgumentError } from "../../errors.js";
import { annotations, positiveInteger, section, text } from "../../settings-schema/schema-kit.js";
import { DEFAULT_REDIS_PREFIX } from "./redis-keys.js";

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;

export const redisSchema = section(
  "Shared state for many replicas. Without this section (and without REDIS_URL) the embedded store is used.",
  {
    username: text({ env: "REDIS_USERNAME", description: "Redis username" }),
    password: text({ env: "REDIS_PASSWORD", description: "Redis password" }),
    prefix: text({
      env: "PORTCULLIS_REDIS_PREFIX",
      default: DEFAULT_REDIS_PREFIX,
      description: "Redis key prefix; keep exactly one `{hash tag}` so a cluster keeps every key in one slot",
    }),
    dcr_prefix: text({
      env: "PORTCULLIS_DCR_REDIS_PREFIX",
      defaultText: "the Redis key prefix",
      description: "prefix of DCR entries; ToolHive's (`thv:auth:{<ns>:<name>}:`) to share them with it",
    }),
    tls_ca_file: text({
      env: "PORTCULLIS_REDIS_TLS_CA_FILE",
      defaultText: "none: the system's CAs",
      description: "PEM file of the CA certificates a `rediss://` server's certificate must chain to (a private CA); only with `rediss://`",
    }),
    command_timeout_ms: positiveInteger({
      env: "PORTCULLIS_REDIS_TIMEOUT_MS",
      default: DEFAULT_COMMAND_TIMEOUT_MS,
      description: "Redis command timeout (ms); slower counts as unavailable",
    }),
  },
  {
    url: Type.String({
      pattern: "^rediss?://",
      ...annotations(
        { env: "REDIS_URL", defaultText: "unset: embedded store", description: "Redis URL (`redis://` or `rediss://`); selects the Redis store" },
        "must start with redis:// or rediss://",
      ),
    }),
  },
);

export interface RedisConfig {
  url: string;
  username?: string;
  password?: string;
  prefix: string;
  /** Prefix of DCR entries; ToolHive's (`thv:auth:{<ns>:<name>}:`) to share them with it. */
  dcrPrefix: string;
  commandTimeoutMs: number;
  /** `rediss://` only: the server certificate must chain to a CA in this PEM file instead of the system's. */
  tlsCaFile?: string;
}

export function redisConfig(file: Static<typeof redisSchema> | undefined): RedisConfig | undefined {
  if (file === undefined) return undefined;
  if (file.tls_ca_file !== undefined && !/^rediss:/i.test(file.url)) {
    // Taken silently, the CA would suggest an encrypted connection that is not there.
    throw new InvalidArgumentError("redis.tls_ca_file", "needs a rediss:// url (TLS); redis.url is redis://");
  }
  const prefix = file.prefix ?? DEFAULT_REDIS_PREFIX;
  return {
    url: file.url,
    username: file.username,
    password: file.password,
    prefix,
    dcrPrefix: file.dcr_prefix ?? prefix,
    commandTimeoutMs: file.command_timeout_ms ?? DEFAULT_COMMAND_TIMEOUT_MS,
    tlsCaFile: file.tls_ca_file,
  };
}
