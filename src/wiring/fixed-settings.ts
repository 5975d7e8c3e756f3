import { isDeepStrictEqual } from "node:util";
import type { Config } from "../config.js";

/**
 * How each setting takes a change while running: "live" ones are rebuilt by
 * a reload; every other is read once at start, by a part that lives as long
 * as the process (the listening socket, the store, the administration
 * services, the route table), so a reload that changes one is refused.
 * Typed over every key of Config: a new setting does not compile until it is
 * placed here. `value` picks a fixed part out of a setting that is otherwise live.
 */
type Liveness = "live" | { fixed: string; value?: (config: Config) => unknown }[];

const fixed = (name: string, value?: (config: Config) => unknown) => [{ fixed: name, value }];

const LIVENESS: { [K in keyof Config]: Liveness } = {
  policy: "live",
  // Team tokens are minted by the administration services with the settings they were started with.
  jwt: fixed("jwt.team_tokens", (config) => config.jwt.teamTokens),
  devAllowAll: "live",
  logLevel: "live",
  envoy: "live",
  shutdownGraceMs: "live",
  configHash: "live",
  warnings: "live",
  listen: fixed("listen"),
  // The listener is started with these; the files they name reload on their own (SIGHUP, file change).
  tls: fixed("tls"),
  // The caller-identity gate is part of the route table, built once.
  callerIdentity: fixed("caller_identity"),
  reflection: fixed("reflection"),
  // The caches are built with the credentials, which live as long as the process.
  cache: fixed("cache"),
  // The decision recorders, with their subject-hash key, are built once with the observability.
  decisionLog: fixed("log"),
  // From the OTEL_* variables, which a reload reads unchanged.
  tracing: fixed("tracing"),
  http: fixed("http"),
  dataDir: fixed("data_dir"),
  dataDirLockStaleMs: fixed("data_dir_lock_stale_ms"),
  redis: fixed("redis"),
  // Hashes of every stored token depend on the pepper.
  tokenPepper: fixed("token_pepper"),
  // Whether a root token is bootstrapped into the store is decided by these at start.
  rootTokens: fixed("root_tokens"),
  tokenFile: fixed("token_file"),
  // Kept by the last-used tracker, whose state outlives a reload.
  lastUsedIntervalMs: fixed("last_used_interval_ms"),
  // The key ring seals and opens with the stores, which live as long as the process.
  encryption: fixed("encryption"),
  dcr: fixed("dcr"),
  oauth: fixed("oauth"),
  // The vault and its refresh settings are built once with the OAuth flows.
  upstreamTokens: fixed("upstream_tokens"),
  protectedResource: fixed("protected_resource"),
  metricsEnabled: fixed("metrics"),
  // The watcher is started with the server.
  watchConfig: fixed("watch_config"),
};

/** The settings that differ between the two and cannot change while running, by their names in the file. */
export function changedFixedSettings(running: Config, next: Config): string[] {
  return (Object.entries(LIVENESS) as [keyof Config, Liveness][]).flatMap(([key, liveness]) =>
    liveness === "live"
      ? []
      : liveness
          .filter(({ value = (config) => config[key] }) => !isDeepStrictEqual(value(running), value(next)))
          .map(({ fixed: name }) => name),
  );
}
