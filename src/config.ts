import { rootTokens, type RootTokenConfig } from "./admin/root-token-settings.js";
import { ADMIN_CLI_VARIABLES } from "./cli/admin-cli-variables.js";
import { configFileSchema, TOP_LEVEL_DEFAULTS, type ConfigFile } from "./config/config-schema.js";
import { parseListen } from "./config/config-values.js";
import { envSettings, overlayEnvironment, unknownVariableWarnings, type Env } from "./config/env-settings.js";
import { readConfigFile } from "./config/read-config-file.js";
import { schemaChecker } from "./settings-schema/schema-check.js";
import { isOn } from "./settings-schema/schema-kit.js";
import { jwtWarnings, parseJwtConfig, type JwtConfig } from "./credentials/jwt/issuer-config.js";
import { envoySettings, type EnvoySettings } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
import { httpLimits, type HttpLimitsConfig } from "./http/http-settings.js";
import { protectedResourceMetadata, type ProtectedResourceMetadata } from "./http/protected-resource.js";
import { decisionLogSettings, type DecisionLogSettings } from "./observability/log-settings.js";
import { metricsEnabled } from "./observability/metrics-settings.js";
import { dcrConfig, oauthConfig, oauthWarnings, type DcrConfig, type OAuthConfig } from "./oauth/oauth-settings.js";
import type { PolicyConfig } from "./policy/policy.js";
import { DEFAULT_LOCK_STALE_MS } from "./store/embedded/data-dir-lock.js";
import { redisConfig, type RedisConfig } from "./store/redis/redis-settings.js";

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
  /** The decision log's subjects and sampling (the `log` section). */
  decisionLog: DecisionLogSettings;
  lastUsedIntervalMs: number;
  shutdownGraceMs: number;
  dcr: DcrConfig;
  oauth: OAuthConfig;
  envoy: EnvoySettings;
  /** RFC 9728 metadata served at /.well-known/oauth-protected-resource; off when absent. */
  protectedResource?: ProtectedResourceMetadata;
  /** Serve Prometheus metrics at GET /metrics. */
  metricsEnabled: boolean;
  /** Settings that work but deserve a look (unchecked audiences, dev flags, unknown variables); logged at every start. */
  warnings: string[];
}

/**
 * Settings come from the file named by PORTCULLIS_CONFIG, then environment
 * variables, which win. Both go through the one schema (src/config/config-schema.ts):
 * an unknown key, or a value of the wrong kind, stops the start with the key's path.
 */
export function loadConfig(env: Env): Config {
  const settings = envSettings(configFileSchema);
  const file = env.PORTCULLIS_CONFIG ? readConfigFile(env.PORTCULLIS_CONFIG) : {};
  const { document, label } = overlayEnvironment(file, settings, env);
  try {
    return resolve(schemaChecker(configFileSchema)(document, label), env, settings.map((setting) => setting.name));
  } catch (error) {
    // Resolvers name the file's paths; a value from a variable is named by the variable.
    if (error instanceof InvalidArgumentError && label(error.field) !== error.field) {
      throw new InvalidArgumentError(label(error.field), error.detail);
    }
    throw error;
  }
}

function resolve(file: ConfigFile, env: Env, knownVariables: string[]): Config {
  const jwt = parseJwtConfig(file.jwt);
  const oauth = oauthConfig(file.oauth);
  const decisionLog = decisionLogSettings(file.log);
  return {
    listen: parseListen("listen", file.listen ?? TOP_LEVEL_DEFAULTS.listen),
    http: httpLimits(file.http),
    dataDir: file.data_dir ?? TOP_LEVEL_DEFAULTS.data_dir,
    dataDirLockStaleMs: file.data_dir_lock_stale_ms ?? DEFAULT_LOCK_STALE_MS,
    redis: redisConfig(file.redis),
    tokenPepper: file.token_pepper,
    rootTokens: rootTokens(file.root_tokens),
    tokenFile: file.token_file,
    policy: file.policy ?? {},
    jwt,
    devAllowAll: isOn(file.dev_allow_all, false),
    logLevel: file.log_level ?? TOP_LEVEL_DEFAULTS.log_level,
    decisionLog,
    lastUsedIntervalMs: file.last_used_interval_ms ?? TOP_LEVEL_DEFAULTS.last_used_interval_ms,
    shutdownGraceMs: file.shutdown_grace_ms ?? TOP_LEVEL_DEFAULTS.shutdown_grace_ms,
    dcr: dcrConfig(file.dcr),
    oauth,
    envoy: envoySettings(file.envoy),
    protectedResource:
      file.protected_resource === undefined ? undefined : protectedResourceMetadata("protected_resource", file.protected_resource),
    metricsEnabled: metricsEnabled(file.metrics),
    warnings: [
      ...jwtWarnings(jwt),
      ...oauthWarnings(oauth),
      ...unknownVariableWarnings(env, ["PORTCULLIS_CONFIG", ...Object.values(ADMIN_CLI_VARIABLES), ...knownVariables]),
    ],
  };
}
