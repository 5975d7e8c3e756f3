import { rootTokens, type RootTokenConfig } from "./admin/root-token-settings.js";
import { ADMIN_CLI_VARIABLES } from "./cli/admin-cli-variables.js";
import { configFileSchema, TOP_LEVEL_DEFAULTS, type ConfigFile } from "./config/config-schema.js";
import { isLoopbackHost, parseListen } from "./config/config-values.js";
import { envSettings, overlayEnvironment, unknownVariableWarnings, type Env } from "./config/env-settings.js";
import { parseConfigSource, readConfigSource, type ConfigSource } from "./config/read-config-file.js";
import { schemaChecker } from "./settings-schema/schema-check.js";
import { isOn } from "./settings-schema/schema-kit.js";
import { cacheSettings, type CacheSettings } from "./credentials/cache/cache-settings.js";
import { jwtWarnings, parseJwtConfig, type JwtConfig } from "./credentials/jwt/issuer-config.js";
import { envoySettings, type EnvoySettings } from "./envoy/envoy-settings.js";
import { InvalidArgumentError } from "./errors.js";
import { callerIdentityRules, type CallerIdentityRule } from "./http/caller-identity-settings.js";
import { httpLimits, type HttpLimitsConfig } from "./http/http-settings.js";
import type { TlsFiles } from "./http/tls-files.js";
import { tlsFiles } from "./http/tls-settings.js";
import { protectedResourceMetadata, type ProtectedResourceMetadata } from "./http/protected-resource.js";
import { decisionLogSettings, type DecisionLogSettings } from "./observability/log-settings.js";
import { metricsEnabled } from "./observability/metrics-settings.js";
import { dcrConfig, oauthConfig, oauthWarnings, type DcrConfig, type OAuthConfig } from "./oauth/oauth-settings.js";
import { upstreamTokensConfig, type UpstreamTokensConfig } from "./oauth/upstream-token-settings.js";
import type { PolicyConfig } from "./policy/policy.js";
import { DEFAULT_LOCK_STALE_MS } from "./store/embedded/data-dir-lock.js";
import { redisConfig, type RedisConfig } from "./store/redis/redis-settings.js";
import { encryptionSettings, type EncryptionSettings } from "./sealing/encryption-settings.js";
import { tracingSettings, type TracingSettings } from "./tracing/tracing-settings.js";

export type { Env };

export interface Config {
  listen: { host: string; port: number };
  /** TLS on the port (mTLS with a client CA); absent: cleartext, which only loopback or allow_insecure permits. */
  tls?: TlsFiles;
  /** With mTLS: which client certificates may call which services; absent: any the client CA signed. */
  callerIdentity?: CallerIdentityRule[];
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
  /** The credential caches (docs/caching.md). */
  cache: CacheSettings;
  shutdownGraceMs: number;
  /** Reload the configuration file when it changes, not only on SIGHUP. */
  watchConfig: boolean;
  /** The key ring sealing secrets at rest (`encryption`, or the older `dcr.encryption_key`); absent: stored plain. */
  encryption?: EncryptionSettings;
  dcr: DcrConfig;
  oauth: OAuthConfig;
  /** The upstream token vault; absent: off, and no rule may ask for an upstream token. */
  upstreamTokens?: UpstreamTokensConfig;
  envoy: EnvoySettings;
  /** RFC 9728 metadata served at /.well-known/oauth-protected-resource; off when absent. */
  protectedResource?: ProtectedResourceMetadata;
  /** Serve gRPC server reflection (grpc.reflection.v1 and v1alpha). */
  reflection: boolean;
  /** Serve Prometheus metrics at GET /metrics. */
  metricsEnabled: boolean;
  /** OpenTelemetry tracing, from the standard OTEL_* variables; off when absent. */
  tracing?: TracingSettings;
  /** Identifies the configuration file this was loaded from (see ConfigSource); served by /readyz and /metrics. */
  configHash: string;
  /** Settings that work but deserve a look (unchecked audiences, dev flags, unknown variables); logged at every start. */
  warnings: string[];
}

/**
 * Settings come from the file named by PORTCULLIS_CONFIG, then environment
 * variables, which win. Both go through the one schema (src/config/config-schema.ts):
 * an unknown key, or a value of the wrong kind, stops the start with the key's path.
 */
export function loadConfig(env: Env, source: ConfigSource = configSourceOf(env)): Config {
  const settings = envSettings(configFileSchema);
  const { document, label } = overlayEnvironment(parseConfigSource(source), settings, env);
  try {
    return resolve(schemaChecker(configFileSchema)(document, label), env, settings.map((setting) => setting.name), source.hash);
  } catch (error) {
    // Resolvers name the file's paths; a value from a variable is named by the variable.
    if (error instanceof InvalidArgumentError && label(error.field) !== error.field) {
      throw new InvalidArgumentError(label(error.field), error.detail);
    }
    throw error;
  }
}

/** The file named by PORTCULLIS_CONFIG as it is now: a reload reads it, compares its hash, then loads it. */
export function configSourceOf(env: Env): ConfigSource {
  return readConfigSource(env.PORTCULLIS_CONFIG || undefined);
}

function resolve(file: ConfigFile, env: Env, knownVariables: string[], configHash: string): Config {
  const jwt = parseJwtConfig(file.jwt);
  const oauth = oauthConfig(file.oauth);
  const tracing = tracingSettings(env);
  const listen = parseListen("listen", file.listen ?? TOP_LEVEL_DEFAULTS.listen);
  const tls = tlsFiles(file.tls);
  const callerIdentity = callerIdentityRules(file.caller_identity);
  if (callerIdentity !== undefined && tls?.clientCaFile === undefined) {
    throw new InvalidArgumentError(
      "caller_identity",
      "needs mTLS: set tls.cert_file, tls.key_file and tls.client_ca_file, so that every caller has a verified certificate to be judged by",
    );
  }
  const cleartextOnNetwork = tls === undefined && !isLoopbackHost(listen.host);
  if (cleartextOnNetwork && !isOn(file.allow_insecure, false)) {
    throw new InvalidArgumentError(
      "listen",
      `${listen.host} is not a loopback address: configure tls (tls.cert_file, tls.key_file), or set allow_insecure: true to send bearer tokens over the network in cleartext`,
    );
  }
  const decisionLog = decisionLogSettings(file.log);
  const encryption = encryptionSettings(file.encryption, file.dcr?.encryption_key);
  const upstreamTokens = upstreamTokensConfig(file.upstream_tokens, oauth.devAllowPrivateUpstreams);
  if (upstreamTokens !== undefined && tls?.clientCaFile === undefined) {
    throw new InvalidArgumentError(
      "upstream_tokens",
      "needs mTLS: set tls.cert_file, tls.key_file and tls.client_ca_file, so that only the recipients' verified certificates receive upstream tokens",
    );
  }
  if (upstreamTokens !== undefined && encryption === undefined) {
    throw new InvalidArgumentError("upstream_tokens", "needs encryption.keys: upstream tokens are kept only sealed");
  }
  return {
    listen,
    tls,
    callerIdentity,
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
    cache: cacheSettings(file.cache),
    shutdownGraceMs: file.shutdown_grace_ms ?? TOP_LEVEL_DEFAULTS.shutdown_grace_ms,
    watchConfig: isOn(file.watch_config, true),
    encryption,
    dcr: dcrConfig(file.dcr),
    oauth,
    upstreamTokens,
    envoy: envoySettings(file.envoy),
    protectedResource:
      file.protected_resource === undefined ? undefined : protectedResourceMetadata("protected_resource", file.protected_resource),
    reflection: isOn(file.reflection, true),
    metricsEnabled: metricsEnabled(file.metrics),
    tracing: tracing.tracing,
    configHash,
    warnings: [
      ...tracing.warnings,
      ...(cleartextOnNetwork
        ? [`allow_insecure is on: listening in cleartext on ${listen.host}; bearer tokens cross the network unencrypted. Configure tls for production.`]
        : []),
      ...jwtWarnings(jwt),
      ...oauthWarnings(oauth),
      ...unknownVariableWarnings(env, ["PORTCULLIS_CONFIG", ...Object.values(ADMIN_CLI_VARIABLES), ...knownVariables]),
    ],
  };
}
