import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { Policy } from "../../src/policy/policy.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { configFileWriter, refusal } from "../support/config-files.js";

const ROOT_A = "root-token-a-0123456789abcdefghijklmnop";
const ROOT_B = "root-token-b-0123456789abcdefghijklmnop";

const configFile = configFileWriter();

describe("loadConfig", () => {
  it("uses the documented defaults when nothing is set", () => {
    expect(loadConfig({})).toEqual({
      listen: { host: "127.0.0.1", port: 8080 },
      // These sections' defaults are checked with their settings (config-http, config-oauth and envoy-config tests).
      http: expect.any(Object),
      dataDir: "./data",
      dataDirLockStaleMs: 10_000,
      redis: undefined,
      tokenPepper: undefined,
      rootTokens: [],
      tokenFile: undefined,
      policy: {},
      devAllowAll: false,
      logLevel: "info",
      decisionLog: { subjects: "hash", allowSampleRate: 0 },
      lastUsedIntervalMs: 60_000,
      cache: { enabled: true, maxEntries: 10_000, ttlMs: 30_000, negativeMaxEntries: 10_000, negativeTtlMs: 1000 },
      shutdownGraceMs: 10_000,
      dcr: expect.any(Object),
      oauth: expect.any(Object),
      jwt: {
        issuers: [],
        teamTokens: { issuer: "portcullis", audience: "portcullis", ttlS: 365 * 24 * 3600, leewayS: 30 },
        requestIssuers: [],
      },
      envoy: expect.any(Object),
      protectedResource: undefined,
      reflection: true,
      metricsEnabled: true,
      watchConfig: true,
      // SHA-256 of no bytes: without a file, nothing was read.
      configHash: "e3b0c44298fc1c14",
      warnings: [],
    });
  });

  it("reads every setting from the file, and environment variables win over it", () => {
    const file = configFile(`
listen: "0.0.0.0:9000"
allow_insecure: true
data_dir: /var/lib/portcullis
data_dir_lock_stale_ms: 30000
redis: { url: "redis://file:6379", username: u, password: p, prefix: "{file}:", command_timeout_ms: 1500 }
token_pepper: file-pepper
root_tokens: [{ token: "${ROOT_A}", name: ops }]
token_file: /etc/tokens.tsv
policy: { default_scope: "api:read" }
dev_allow_all: true
log_level: warn
last_used_interval_ms: 5000
shutdown_grace_ms: 2000
reflection: false
metrics: { enabled: false }
`);
    expect(loadConfig({ PORTCULLIS_CONFIG: file })).toMatchObject({
      listen: { host: "0.0.0.0", port: 9000 },
      dataDir: "/var/lib/portcullis",
      dataDirLockStaleMs: 30_000,
      redis: { url: "redis://file:6379", username: "u", password: "p", prefix: "{file}:", commandTimeoutMs: 1500 },
      tokenPepper: "file-pepper",
      rootTokens: [{ token: ROOT_A, name: "ops" }],
      tokenFile: "/etc/tokens.tsv",
      policy: { default_scope: "api:read" },
      devAllowAll: true,
      logLevel: "warn",
      lastUsedIntervalMs: 5000,
      shutdownGraceMs: 2000,
      reflection: false,
      metricsEnabled: false,
    });
    expect(
      loadConfig({
        PORTCULLIS_CONFIG: file,
        PORTCULLIS_LISTEN: "[::1]:7000",
        PORTCULLIS_DATA_DIR: "/tmp/x",
        PORTCULLIS_DATA_DIR_LOCK_STALE_MS: "2000",
        REDIS_URL: "rediss://env:6380",
        REDIS_USERNAME: "eu",
        REDIS_PASSWORD: "ep",
        PORTCULLIS_REDIS_PREFIX: "{env}:",
        PORTCULLIS_REDIS_TIMEOUT_MS: "750",
        PORTCULLIS_TOKEN_PEPPER: "env-pepper",
        PORTCULLIS_ROOT_TOKENS: ROOT_B,
        PORTCULLIS_TOKEN_FILE: "/tmp/tokens.tsv",
        PORTCULLIS_POLICY: '{"default_scope": "env:read"}',
        PORTCULLIS_DEV_ALLOW_ALL: "0",
        PORTCULLIS_LOG_LEVEL: "debug",
        PORTCULLIS_LAST_USED_INTERVAL_MS: "1000",
        PORTCULLIS_SHUTDOWN_GRACE_MS: "500",
        PORTCULLIS_REFLECTION: "true",
        PORTCULLIS_METRICS_ENABLED: "true",
      }),
    ).toMatchObject({
      listen: { host: "::1", port: 7000 },
      dataDir: "/tmp/x",
      dataDirLockStaleMs: 2000,
      redis: { url: "rediss://env:6380", username: "eu", password: "ep", prefix: "{env}:", commandTimeoutMs: 750 },
      tokenPepper: "env-pepper",
      rootTokens: [
        { token: ROOT_A, name: "ops" },
        { token: ROOT_B, name: "env-root-1" },
      ],
      tokenFile: "/tmp/tokens.tsv",
      policy: { default_scope: "env:read" },
      devAllowAll: false,
      logLevel: "debug",
      lastUsedIntervalMs: 1000,
      shutdownGraceMs: 500,
      reflection: true,
      metricsEnabled: true,
    });
  });

  it("loads the example configuration in deploy/ into a valid policy", () => {
    const config = loadConfig({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG });
    expect(config.redis).toBeUndefined();
    expect(config.rootTokens).toEqual([]);
    expect(() => new Policy(config.policy)).not.toThrow();
  });

  it.each<[string, Record<string, string>, string]>([
    ["a listen address without a port", { PORTCULLIS_LISTEN: "localhost" }, "PORTCULLIS_LISTEN"],
    ["a port out of range", { PORTCULLIS_LISTEN: "127.0.0.1:70000" }, "PORTCULLIS_LISTEN"],
    ["a Redis URL of another scheme", { REDIS_URL: "http://127.0.0.1:6379" }, "REDIS_URL"],
    ["a zero timeout", { REDIS_URL: "redis://x", PORTCULLIS_REDIS_TIMEOUT_MS: "0" }, "PORTCULLIS_REDIS_TIMEOUT_MS"],
    ["a fractional interval", { PORTCULLIS_LAST_USED_INTERVAL_MS: "1.5" }, "PORTCULLIS_LAST_USED_INTERVAL_MS"],
    ["a lock stale time below the 2 s floor", { PORTCULLIS_DATA_DIR_LOCK_STALE_MS: "1999" }, "PORTCULLIS_DATA_DIR_LOCK_STALE_MS"],
    ["a lock stale time in the file below the floor", { PORTCULLIS_CONFIG: configFile("data_dir_lock_stale_ms: 500\n") }, "data_dir_lock_stale_ms"],
    ["a grace period that is no number", { PORTCULLIS_SHUTDOWN_GRACE_MS: "soon" }, "PORTCULLIS_SHUTDOWN_GRACE_MS"],
    ["a short root token", { PORTCULLIS_ROOT_TOKENS: "short-root" }, "PORTCULLIS_ROOT_TOKENS[0]"],
    ["an empty root token in the list", { PORTCULLIS_ROOT_TOKENS: `${ROOT_A},` }, "PORTCULLIS_ROOT_TOKENS[1]"],
    ["a short root token in the file", { PORTCULLIS_CONFIG: configFile('root_tokens: [{ token: "short" }]\n') }, "root_tokens[0].token"],
    ["a missing configuration file", { PORTCULLIS_CONFIG: "/nonexistent/portcullis.yaml" }, "PORTCULLIS_CONFIG"],
    ["a configuration file that is a list", { PORTCULLIS_CONFIG: configFile("- a\n- b\n") }, "PORTCULLIS_CONFIG"],
    ["root_tokens that are no list", { PORTCULLIS_CONFIG: configFile(`root_tokens: "${ROOT_A}"\n`) }, "root_tokens"],
    ["a policy variable that is no YAML", { PORTCULLIS_POLICY: "rules: [" }, "PORTCULLIS_POLICY"],
    ["a metrics switch that is neither true nor false", { PORTCULLIS_METRICS_ENABLED: "off" }, "PORTCULLIS_METRICS_ENABLED"],
    ["a metrics switch in the file that is text", { PORTCULLIS_CONFIG: configFile('metrics: { enabled: "no" }\n') }, "metrics.enabled"],
    ["dev_allow_all: no in the file (text, not false)", { PORTCULLIS_CONFIG: configFile("dev_allow_all: no\n") }, "dev_allow_all"],
    ["dev_allow_all: off in the file", { PORTCULLIS_CONFIG: configFile("dev_allow_all: off\n") }, "dev_allow_all"],
    ["a dev_allow_all number other than 0 or 1", { PORTCULLIS_CONFIG: configFile("dev_allow_all: 2\n") }, "dev_allow_all"],
    ["a dev-allow-all variable that is neither true nor false", { PORTCULLIS_DEV_ALLOW_ALL: "yes" }, "PORTCULLIS_DEV_ALLOW_ALL"],
    ["an Envoy switch in the file that is text", { PORTCULLIS_CONFIG: configFile("envoy: { remove_authorization: no }\n") }, "envoy.remove_authorization"],
    ["an Envoy switch variable that is neither true nor false", { PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION: "on" }, "PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION"],
    [
      "a challenge switch in the file that is text",
      { PORTCULLIS_CONFIG: configFile("envoy: { omit_forbidden_challenge: off }\n") },
      "envoy.omit_forbidden_challenge",
    ],
    ["a challenge switch variable that is neither true nor false", { PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE: "no" }, "PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE"],
  ])("refuses %s, naming the setting as it was written (file key or variable)", (_case, env, field) => {
    expect(refusal(env).field).toBe(field);
  });

  it("reads every switch written as true/false or 1/0, in the file and in the environment", () => {
    const file = configFile("dev_allow_all: false\nenvoy: { remove_authorization: 1, omit_forbidden_challenge: true }\n");
    expect(loadConfig({ PORTCULLIS_CONFIG: file })).toMatchObject({
      devAllowAll: false,
      envoy: { removeAuthorization: true, omitForbiddenChallenge: true },
    });
    expect(
      loadConfig({
        PORTCULLIS_CONFIG: file,
        PORTCULLIS_DEV_ALLOW_ALL: "1",
        PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION: "false",
        PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE: "0",
      }),
    ).toMatchObject({ devAllowAll: true, envoy: { removeAuthorization: false, omitForbiddenChallenge: false } });
  });

  it("never quotes a token when it refuses one", () => {
    expect(refusal({ PORTCULLIS_ROOT_TOKENS: "short-secret-value" }).message).not.toContain("short-secret-value");
  });

  it("reports a broken YAML file by position only, never quoting its lines", () => {
    const secret = "SECRET-root-token-that-must-not-leak-0123456789";
    const error = refusal({ PORTCULLIS_CONFIG: configFile(`root_tokens:\n  - token: "${secret}\n    name: x\n  - : [\n`) });
    expect(error.message).toMatch(/is not valid YAML at line \d+, column \d+$/);
    expect(error.message).not.toContain("SECRET");
  });
});
