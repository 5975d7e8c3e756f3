import { Type, type Static } from "@sinclair/typebox";
import { rootTokensSchema } from "../admin/root-token-settings.js";
import { cacheSchema } from "../credentials/cache/cache-settings.js";
import { jwtSchema } from "../credentials/jwt/jwt-schema.js";
import { envoySchema } from "../envoy/envoy-settings.js";
import { callerIdentitySchema } from "../http/caller-identity-settings.js";
import { httpSchema } from "../http/http-settings.js";
import { protectedResourceSchema } from "../http/protected-resource.js";
import { tlsSchema } from "../http/tls-settings.js";
import { logSchema } from "../observability/log-settings.js";
import { metricsSchema } from "../observability/metrics-settings.js";
import { dcrSchema, oauthSchema } from "../oauth/oauth-settings.js";
import { upstreamTokensSchema } from "../oauth/upstream-token-settings.js";
import { policySchema } from "../policy/policy-schema.js";
import { DEFAULT_LOCK_STALE_MS, MIN_LOCK_STALE_MS } from "../store/embedded/data-dir-lock.js";
import { encryptionSchema } from "../sealing/encryption-settings.js";
import { redisSchema } from "../store/redis/redis-settings.js";
import { annotations, positiveInteger, section, switchSetting, text } from "../settings-schema/schema-kit.js";

export const TOP_LEVEL_DEFAULTS = {
  listen: "127.0.0.1:8080",
  data_dir: "./data",
  log_level: "info",
  last_used_interval_ms: 60_000,
  shutdown_grace_ms: 10_000,
};

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * The whole configuration file, composed from the schema each section's
 * owner keeps beside its code. docs/portcullis.schema.json is generated from
 * it (npm run generate:config), and so is docs/configuration.md.
 */
export const configFileSchema = section("Portcullis configuration (file named by PORTCULLIS_CONFIG; environment variables win).", {
  listen: text({
    env: "PORTCULLIS_LISTEN",
    default: TOP_LEVEL_DEFAULTS.listen,
    description: "listen address (`host:port`, `[v6]:port`, `:port` = all interfaces)",
  }),
  allow_insecure: switchSetting({
    env: "PORTCULLIS_ALLOW_INSECURE",
    default: false,
    description:
      "listen in cleartext (h2c and HTTP/1.1) on an address other than loopback, without `tls`: bearer tokens then cross the network unencrypted (logged as a warning at every start). Without it such a start is refused",
  }),
  tls: tlsSchema,
  caller_identity: callerIdentitySchema,
  data_dir: text({ env: "PORTCULLIS_DATA_DIR", default: TOP_LEVEL_DEFAULTS.data_dir, description: "data directory (embedded store, `root.token`)" }),
  data_dir_lock_stale_ms: Type.Integer({
    minimum: MIN_LOCK_STALE_MS,
    ...annotations(
      {
        env: "PORTCULLIS_DATA_DIR_LOCK_STALE_MS",
        default: DEFAULT_LOCK_STALE_MS,
        description: `embedded store: time (ms, ≥ ${MIN_LOCK_STALE_MS}) after which a data dir lock that is not refreshed counts as abandoned by a killed process ([details](storage.md#one-replica-the-data-dir-lock))`,
      },
      `must be a whole number, at least ${MIN_LOCK_STALE_MS}`,
    ),
  }),
  redis: redisSchema,
  token_pepper: text({
    env: "PORTCULLIS_TOKEN_PEPPER",
    defaultText: "none: SHA-256",
    description: "pepper for HMAC-SHA-256 token hashes (same on every replica)",
  }),
  root_tokens: rootTokensSchema,
  token_file: text({ env: "PORTCULLIS_TOKEN_FILE", defaultText: "none", description: "legacy token file to import at start" }),
  policy: policySchema,
  jwt: jwtSchema,
  dev_allow_all: switchSetting({
    env: "PORTCULLIS_DEV_ALLOW_ALL",
    default: false,
    description: "dev mode: allow everything (logged as a warning at every start)",
  }),
  log_level: Type.Union(
    LOG_LEVELS.map((level) => Type.Literal(level)),
    annotations(
      {
        env: "PORTCULLIS_LOG_LEVEL",
        default: TOP_LEVEL_DEFAULTS.log_level,
        description: "log level (pino); the audit log is written at every level ([details](audit-and-decision-logs.md))",
      },
      `must be one of ${LOG_LEVELS.join(", ")}`,
    ),
  ),
  log: logSchema,
  last_used_interval_ms: positiveInteger({
    env: "PORTCULLIS_LAST_USED_INTERVAL_MS",
    default: TOP_LEVEL_DEFAULTS.last_used_interval_ms,
    description: "interval (ms) at which token uses are written to `last_used_at` (one write per used token)",
  }),
  watch_config: switchSetting({
    env: "PORTCULLIS_WATCH_CONFIG",
    default: true,
    description: "reload the configuration file when it changes (its directory is watched); SIGHUP reloads either way ([reload](reload.md))",
  }),
  cache: cacheSchema,
  shutdown_grace_ms: positiveInteger({
    env: "PORTCULLIS_SHUTDOWN_GRACE_MS",
    default: TOP_LEVEL_DEFAULTS.shutdown_grace_ms,
    description: "time in-flight calls get on SIGTERM/SIGINT (ms)",
  }),
  reflection: switchSetting({
    env: "PORTCULLIS_REFLECTION",
    default: true,
    description: "gRPC server reflection (v1 and v1alpha), so `buf curl` and `grpcurl` need no schema ([details](health-and-reflection.md))",
  }),
  http: httpSchema,
  encryption: encryptionSchema,
  dcr: dcrSchema,
  oauth: oauthSchema,
  upstream_tokens: upstreamTokensSchema,
  envoy: envoySchema,
  protected_resource: protectedResourceSchema,
  metrics: metricsSchema,
});

/** The configuration file's shape (YAML or JSON), snake_case as written, derived from the schema. */
export type ConfigFile = Static<typeof configFileSchema>;
