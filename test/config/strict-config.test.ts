import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadConfig } from "../../src/config.js";
import { configFileSchema } from "../../src/config/config-schema.js";
import { envSettings } from "../../src/config/env-settings.js";
import { EXAMPLE_CONFIG } from "../support/backends.js";
import { configFileWriter, refusal } from "../support/config-files.js";
import { startInProcess } from "../support/in-process.js";
import { failedStart } from "../support/portcullis-process.js";

const SECRET = "SECRET-root-token-never-to-be-echoed-0123456789";
const KEY = Buffer.alloc(32, 7).toString("base64");

const configFile = configFileWriter();

const ISSUER = '{ issuer: "https://idp.example", audiences: [api] }';

describe("a configuration file with a key or value the schema does not know", () => {
  it.each<[string, string, string, RegExp]>([
    ["a misspelt top-level key", 'listn: "127.0.0.1:1"', "listn", /unknown key \(did you mean listen\?\)/],
    ["redis: {ulr: ...}, which used to start on the embedded store", 'redis: { ulr: "redis://cache:6379" }', "redis.ulr", /did you mean url\?/],
    ["a redis section that names no Redis", 'redis: { prefix: "{p}:" }', "redis", /names no Redis: set one of url, sentinels or cluster_nodes/],
    ["two Redis topologies at once", 'redis: { url: "redis://cache:6379", cluster_nodes: ["a:7000"] }', "redis", /more than one topology \(url, cluster_nodes\)/],
    ["sentinels without the master's name", 'redis: { sentinels: ["s1:26379"] }', "redis.sentinel_name", /is needed with redis.sentinels/],
    ["a sentinel setting without sentinels", 'redis: { url: "redis://cache:6379", sentinel_password: pw }', "redis.sentinel_password", /applies only with redis.sentinels/],
    ["a cluster node without a port", 'redis: { cluster_nodes: ["a:7000", "b"] }', "redis.cluster_nodes[1]", /must be host:port/],
    ["tls beside a url", 'redis: { url: "redis://cache:6379", tls: true }', "redis.tls", /with url use rediss:\/\//],
    ["a CA file for a cluster without tls", 'redis: { cluster_nodes: ["a:7000"], tls_ca_file: /etc/ca.crt }', "redis.tls_ca_file", /needs redis.tls: true/],
    ["a replica wait as long as the command timeout", 'redis: { url: "redis://cache:6379", command_timeout_ms: 500, wait_timeout_ms: 500 }', "redis.wait_timeout_ms", /must be below redis.command_timeout_ms \(500\)/],
    ["a misspelt jwt key", "jwt: { issuer: [] }", "jwt.issuer", /did you mean issuers\?/],
    ["jwt.issuers[].audience, which used to turn the aud check off", 'jwt: { issuers: [{ issuer: "https://idp.example", audience: [api] }] }', "jwt.issuers[0].audience", /unknown key \(did you mean audiences\?\)/],
    ["an external issuer without audiences", 'jwt: { issuers: [{ issuer: "https://idp.example" }] }', "jwt.issuers[0].audiences", /is required/],
    ["an empty audiences list", 'jwt: { issuers: [{ issuer: "https://idp.example", audiences: [] }] }', "jwt.issuers[0].audiences", /non-empty list/],
    ["a misspelt per-request issuer key", 'jwt: { request_issuers: [{ issuer: o, jwk: { kty: oct, k: abc }, audiences: any, max_lifetime: 60 }] }', "jwt.request_issuers[0].max_lifetime", /did you mean max_lifetime_s\?/],
    ["a misspelt team_tokens key", "jwt: { team_tokens: { ttl: 60 } }", "jwt.team_tokens.ttl", /did you mean ttl_s\?/],
    ["a misspelt envoy key", "envoy: { identity_headers: { subjects: x-user } }", "envoy.identity_headers.subjects", /did you mean subject\?/],
    ["a misspelt dcr key", `dcr: { encryption_keys: "${KEY}" }`, "dcr.encryption_keys", /did you mean encryption_key\?/],
    ["a misspelt http key", "http: { max_concurrent_stream: 10 }", "http.max_concurrent_stream", /did you mean max_concurrent_streams\?/],
    ["a misspelt metrics key", "metrics: { enable: false }", "metrics.enable", /did you mean enabled\?/],
    ["a misspelt root token key", `root_tokens: [{ token: "${SECRET}", nmae: ops }]`, "root_tokens[0].nmae", /did you mean name\?/],
    ["a misspelt policy rule key", "policy: { rules: [{ path: /a, scope: x, hosts: [a] }] }", "policy.rules[0].hosts", /did you mean host\?/],
    ["a public rule with a scope", "policy: { rules: [{ path: /a, public: true, scope: x }] }", "policy.rules[0].scope", /a public rule takes no scope/],
    ["a misspelt oauth key", "oauth: { allowed_issuer: [https://auth.example] }", "oauth.allowed_issuer", /did you mean allowed_issuers\?/],
    ["an allowed issuer over plain http", "oauth: { allowed_issuers: [http://auth.example] }", "oauth.allowed_issuers[0]", /must be an https issuer URL/],
    ["a misspelt protected_resource key", "protected_resource: { resource: https://api.example, scope_supported: [a] }", "protected_resource.scope_supported", /did you mean scopes_supported\?/],
    ["a number where text belongs", "data_dir: 5", "data_dir", /must be a non-empty string/],
    ["an unknown log level", "log_level: verbose", "log_level", /must be one of fatal, error, warn, info, debug, trace, silent/],
    ["a misspelt log key", "log: { subject: plain }", "log.subject", /did you mean subjects\?/],
    ["an unknown subject mode", "log: { subjects: clear }", "log.subjects", /must be one of plain, hash, omit/],
    ["an allow sample rate above 1", "log: { allow_sample_rate: 2 }", "log.allow_sample_rate", /must be a number from 0 to 1/],
    ["a subject hash key file that cannot be read", "log: { subject_hash_key_file: /nonexistent/key }", "log.subject_hash_key_file", /cannot be read/],
  ])("refuses %s, naming the key's path", (_case, yaml, path, message) => {
    const error = refusal({ PORTCULLIS_CONFIG: configFile(`${yaml}\n`) });
    expect(error.field).toBe(path);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(SECRET);
  });

  it("never echoes a secret written as a key or where the wrong kind of value belongs", () => {
    const asKey = refusal({ PORTCULLIS_CONFIG: configFile(`root_tokens: [{ "${SECRET}": ops }]\n`) });
    expect(asKey.field).toBe("root_tokens[0]");
    expect(asKey.message).toMatch(/holds an unknown key \(known keys: token, name\)/);
    const shortPassword = "hunter2-secret";
    const numbers = refusal({ PORTCULLIS_CONFIG: configFile(`redis: { url: "redis://x", password: [${shortPassword}] }\n`) });
    expect(numbers.field).toBe("redis.password");
    for (const error of [asKey, numbers]) expect(error.message).not.toMatch(/SECRET|hunter2/);
  });

  it.each<[string, Record<string, string>, string]>([
    ["jwt.issuers[].audience", { PORTCULLIS_CONFIG: "AUDIENCE" }, "jwt.issuers[0].audience: unknown key (did you mean audiences?)"],
    ["redis: {ulr: ...}", { PORTCULLIS_CONFIG: "ULR" }, "redis.ulr: unknown key (did you mean url?)"],
    ["public with scope, from PORTCULLIS_POLICY", { PORTCULLIS_POLICY: "rules: [{ path: /a, public: true, scope: x }]" }, "PORTCULLIS_POLICY: policy.rules[0].scope: a public rule takes no scope"],
  ])("stops the real process on %s with exit code 1 and one readable line", async (_case, env, line) => {
    const files: Record<string, string> = {
      AUDIENCE: configFile('jwt: { issuers: [{ issuer: "https://idp.example", audience: [api] }] }\n'),
      ULR: configFile('redis: { ulr: "redis://cache:6379" }\n'),
    };
    const resolved = Object.fromEntries(Object.entries(env).map(([name, value]) => [name, files[value] ?? value]));
    const { code, stderr, stdout } = await failedStart(resolved);
    expect(code).toBe(1);
    expect(stderr).toContain(`portcullis: cannot start: ${line}`);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr + stdout).not.toMatch(/\n\s+at /);
    expect(stdout).not.toContain("portcullis listening");
  }, 90_000);
});

describe("values from the environment", () => {
  const ROOT_A = "root-token-a-0123456789abcdefghijklmnop";
  const ROOT_B = "root-token-b-0123456789abcdefghijklmnop";
  /** One value per variable, as the file holds it: adding a setting means adding it here. */
  const SAMPLE: Record<string, unknown> = {
    PORTCULLIS_LISTEN: "127.0.0.1:9999",
    PORTCULLIS_ALLOW_INSECURE: true,
    PORTCULLIS_TLS_CERT_FILE: "/etc/portcullis/tls/tls.crt",
    PORTCULLIS_TLS_KEY_FILE: "/etc/portcullis/tls/tls.key",
    PORTCULLIS_TLS_CLIENT_CA_FILE: "/etc/portcullis/tls/ca.crt",
    PORTCULLIS_TLS_MIN_VERSION: "TLSv1.3",
    PORTCULLIS_CALLER_IDENTITY: { rules: [{ services: ["portcullis.v1.TokenAdminService"], identities: ["spiffe://example.org/ops", "dns:ops.example"] }] },
    PORTCULLIS_DATA_DIR: "/var/lib/portcullis",
    PORTCULLIS_DATA_DIR_LOCK_STALE_MS: 3000,
    REDIS_URL: "rediss://cache:6380",
    REDIS_USERNAME: "user",
    REDIS_PASSWORD: "password",
    PORTCULLIS_REDIS_PREFIX: "{x}:",
    PORTCULLIS_DCR_REDIS_PREFIX: "thv:auth:{ns:x}:",
    PORTCULLIS_REDIS_TIMEOUT_MS: 700,
    PORTCULLIS_REDIS_TLS_CA_FILE: "/etc/portcullis/redis-ca.crt",
    PORTCULLIS_REDIS_WAIT_REPLICAS: 2,
    PORTCULLIS_REDIS_WAIT_TIMEOUT_MS: 300,
    PORTCULLIS_TOKEN_PEPPER: "pepper",
    PORTCULLIS_ROOT_TOKENS: [ROOT_A, ROOT_B],
    PORTCULLIS_TOKEN_FILE: "/etc/portcullis/tokens.tsv",
    PORTCULLIS_POLICY: { rules: [{ path: "/a", methods: ["GET"], scope: "s" }], default_scope: "d" },
    PORTCULLIS_JWT_ISSUERS: [{ issuer: "https://idp.example", audiences: ["api"], jwks_cache_ttl_s: 60 }],
    PORTCULLIS_JWT_REQUEST_ISSUERS: [{ issuer: "orchestrator", jwk: { kty: "oct", k: KEY }, audiences: "any" }],
    PORTCULLIS_TEAM_TOKEN_ISSUER: "team-issuer",
    PORTCULLIS_TEAM_TOKEN_AUDIENCE: "team-audience",
    PORTCULLIS_TEAM_TOKEN_TTL_S: 3600,
    PORTCULLIS_TEAM_TOKEN_LEEWAY_S: 0,
    PORTCULLIS_DEV_ALLOW_ALL: true,
    PORTCULLIS_LOG_LEVEL: "warn",
    PORTCULLIS_LOG_SUBJECTS: "hash",
    PORTCULLIS_LOG_SUBJECT_HASH_KEY_FILE: configFile(`${"k".repeat(40)}\n`),
    PORTCULLIS_LOG_ALLOW_SAMPLE_RATE: 0.25,
    PORTCULLIS_LAST_USED_INTERVAL_MS: 1000,
    PORTCULLIS_CACHE_ENABLED: false,
    PORTCULLIS_CACHE_MAX_ENTRIES: 50,
    PORTCULLIS_CACHE_TTL_MS: 500,
    PORTCULLIS_CACHE_NEGATIVE_MAX_ENTRIES: 20,
    PORTCULLIS_CACHE_NEGATIVE_TTL_MS: 0,
    PORTCULLIS_SHUTDOWN_GRACE_MS: 500,
    PORTCULLIS_REFLECTION: false,
    PORTCULLIS_WATCH_CONFIG: false,
    PORTCULLIS_HTTP_MAX_CONCURRENT_STREAMS: 16,
    PORTCULLIS_HTTP_REQUEST_READ_TIMEOUT_MS: 2000,
    PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES: 8_388_608,
    PORTCULLIS_HTTP_REQUEST_BUFFER_MAX_BYTES_PER_CONNECTION: 1_048_576,
    PORTCULLIS_DCR_STALE_AFTER_S: 60,
    PORTCULLIS_DCR_ENCRYPTION_KEY: KEY,
    PORTCULLIS_DCR_LEASE_TTL_MS: 1000,
    PORTCULLIS_DCR_AWAIT_MAX_MS: 2000,
    PORTCULLIS_DCR_AWAIT_POLL_MS: 50,
    PORTCULLIS_OAUTH_STATE_TTL_MS: 1000,
    PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS: 250,
    PORTCULLIS_OAUTH_HTTP_MAX_BYTES: 4096,
    PORTCULLIS_OAUTH_DISCOVERY_CACHE_MS: 1000,
    PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S: 0,
    PORTCULLIS_OAUTH_ALLOWED_ISSUERS: ["https://a.example", "https://b.example/"],
    PORTCULLIS_UPSTREAM_TOKENS: { recipients: ["spiffe://example.org/gw", "dns:Envoy.example"], refresh_skew_ms: 0, refresh_wait_ms: 100 },
    PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: true,
    PORTCULLIS_ENVOY_SUBJECT_HEADER: "x-user",
    PORTCULLIS_ENVOY_TOKEN_ID_HEADER: "x-token",
    PORTCULLIS_ENVOY_SCOPES_HEADER: "x-scopes",
    PORTCULLIS_ENVOY_LIBRARIES_HEADER: "x-libs",
    PORTCULLIS_ENVOY_CREDENTIAL_TYPE_HEADER: "x-kind",
    PORTCULLIS_ENVOY_ISSUER_HEADER: "x-idp",
    PORTCULLIS_ENVOY_OWNER_HEADER: "x-user-id",
    PORTCULLIS_ENVOY_REMOVE_AUTHORIZATION: true,
    PORTCULLIS_ENVOY_REALM: "corp",
    PORTCULLIS_ENVOY_RESOURCE_METADATA_URL: "https://api.example/.well-known/oauth-protected-resource",
    PORTCULLIS_ENVOY_OMIT_FORBIDDEN_CHALLENGE: true,
    PORTCULLIS_PROTECTED_RESOURCE: { resource: "https://api.example", scopes_supported: ["s"] },
    PORTCULLIS_METRICS_ENABLED: false,
  };

  /** The other Redis topologies' variables, each set in place of REDIS_URL (one topology at a time). */
  const TOPOLOGY_SAMPLES: Record<string, unknown>[] = [
    {
      PORTCULLIS_REDIS_SENTINELS: ["s1:26379", "[::1]:26380"],
      PORTCULLIS_REDIS_SENTINEL_NAME: "mymaster",
      PORTCULLIS_REDIS_SENTINEL_USERNAME: "sentinel-user",
      PORTCULLIS_REDIS_SENTINEL_PASSWORD: "sentinel-password",
      PORTCULLIS_REDIS_TLS: true,
    },
    { PORTCULLIS_REDIS_CLUSTER_NODES: ["n1:7000", "n2:7001"], PORTCULLIS_REDIS_TLS: true },
  ];

  /** The key ring, set in place of its older spelling PORTCULLIS_DCR_ENCRYPTION_KEY (both at once are refused). */
  const ENCRYPTION_SAMPLE: Record<string, unknown> = {
    PORTCULLIS_ENCRYPTION_KEYS: [{ id: "old", key: KEY }, { id: "new", key: Buffer.alloc(32, 9).toString("base64") }],
    PORTCULLIS_ENCRYPTION_SEAL_WITH: "new",
  };

  it("name every variable in the samples", () => {
    const named = new Set([...Object.keys(SAMPLE), ...[...TOPOLOGY_SAMPLES, ENCRYPTION_SAMPLE].flatMap((sample) => Object.keys(sample))]);
    expect([...named].sort()).toEqual(envSettings(configFileSchema).map((setting) => setting.name).sort());
  });

  it.each<[string, Record<string, unknown>]>([
    ["a standalone url", SAMPLE],
    ...TOPOLOGY_SAMPLES.map((topology): [string, Record<string, unknown>] => [Object.keys(topology)[0]!, { ...without(SAMPLE, "REDIS_URL"), ...topology }]),
    ["an encryption key ring", { ...without(SAMPLE, "PORTCULLIS_DCR_ENCRYPTION_KEY"), ...ENCRYPTION_SAMPLE }],
  ])("resolve exactly as the same values written in the file, for every setting (with %s)", (_topology, sample) => {
    const settings = envSettings(configFileSchema).filter((setting) => setting.name in sample);
    const file: Record<string, unknown> = {};
    const env: Record<string, string> = {};
    for (const { path, name, format } of settings) {
      const value = sample[name];
      let node = file;
      for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
      node[path[path.length - 1]!] =
        format === "root-tokens" ? (value as string[]).map((token, index) => ({ token, name: `env-root-${index + 1}` })) : value;
      env[name] =
        format === "json" || format === "yaml" ? JSON.stringify(value) : Array.isArray(value) ? value.join(",") : String(value);
    }
    const fromFile = loadConfig({ PORTCULLIS_CONFIG: configFile(stringify(file)) });
    // Only the hash tells them apart: it names the file, and the variables come with no file.
    expect({ ...loadConfig(env), configHash: fromFile.configHash }).toEqual(fromFile);
    expect(fromFile).toMatchObject({ devAllowAll: true, metricsEnabled: false, logLevel: "warn", oauth: { devAllowPrivateUpstreams: true } });
  });

  it("are refused with the variable's name, the same way as the file's", () => {
    expect(refusal({ PORTCULLIS_LAST_USED_INTERVAL_MS: "1.5" }).message).toBe("PORTCULLIS_LAST_USED_INTERVAL_MS: must be a positive integer");
    expect(refusal({ PORTCULLIS_CONFIG: configFile("last_used_interval_ms: 1.5\n") }).message).toBe("last_used_interval_ms: must be a positive integer");
    expect(refusal({ PORTCULLIS_JWT_ISSUERS: '[{"issuer": "https://idp.example", "audience": ["api"]}]' }).message).toBe(
      "PORTCULLIS_JWT_ISSUERS: jwt.issuers[0].audience: unknown key (did you mean audiences?)",
    );
    expect(refusal({ PORTCULLIS_OAUTH_ALLOWED_ISSUERS: "https://a.example,http://b.example" }).field).toBe("PORTCULLIS_OAUTH_ALLOWED_ISSUERS[1]");
  });

  it("every setting outside a list declares its environment variable", () => {
    type Node = { properties?: Record<string, Node>; "x-env"?: string };
    const undeclared: string[] = [];
    const walk = (node: Node, path: string) => {
      if (node["x-env"] !== undefined) return;
      if (node.properties === undefined) undeclared.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {})) walk(child, path === "" ? key : `${path}.${key}`);
    };
    walk(configFileSchema as Node, "");
    expect(undeclared).toEqual([]);
  });

  it("warns once about an unknown PORTCULLIS_ variable, suggesting the closest known one, and starts", async () => {
    // The admin CLI's variables are known: an operator's shell may hold them.
    const server = await startInProcess({ PORTCULLIS_SHUTDOWN_GRACE_MS: "100", PORTCULLIS_SHUTDOWN_GRACE: "100", PORTCULLIS_URL: "http://x" });
    try {
      const warnings = server
        .output()
        .split("\n")
        .filter((line) => line.includes("unknown environment variable"));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({
        level: 40,
        msg: "config: unknown environment variable PORTCULLIS_SHUTDOWN_GRACE is ignored (did you mean PORTCULLIS_SHUTDOWN_GRACE_MS?)",
      });
    } finally {
      await server.stop();
    }
  });

  it("warns at start about issuers whose audiences are any and about private OAuth upstreams", async () => {
    const server = await startInProcess({
      PORTCULLIS_JWT_REQUEST_ISSUERS: JSON.stringify([{ issuer: "orchestrator", jwk: { kty: "oct", k: KEY }, audiences: "any" }]),
      PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS: "true",
    });
    try {
      expect(server.output()).toMatch(/"level":40,.*"msg":"config: JWT issuer \\"orchestrator\\" has audiences: any/);
      expect(server.output()).toMatch(/"level":40,.*"msg":"config: oauth.dev_allow_private_upstreams is on/);
    } finally {
      await server.stop();
    }
  });
});

describe("the example configuration in deploy/", () => {
  it("loads as shipped", () => {
    expect(loadConfig({ PORTCULLIS_CONFIG: EXAMPLE_CONFIG }).warnings).toEqual([]);
  });

  it("loads with every commented-out setting switched on", () => {
    const settingLine = /^# ?(\s*(- )?[a-z_]+:( |$))/;
    const full = readFileSync(EXAMPLE_CONFIG, "utf8")
      .split("\n")
      .map((line) => line.replace(settingLine, "$1"))
      .join("\n");
    expect(full).toContain("\nredis:\n");
    const config = loadConfig({ PORTCULLIS_CONFIG: configFile(full) });
    expect(config).toMatchObject({
      redis: { url: "redis://127.0.0.1:6379" },
      rootTokens: [{ name: "ops" }],
      jwt: { issuers: [{ issuer: "https://idp.example.com", audiences: ["https://api.example.com"] }] },
      oauth: { allowedIssuers: ["https://auth.example.com"] },
    });
  });
});

function without(sample: Record<string, unknown>, name: string): Record<string, unknown> {
  const { [name]: _left, ...rest } = sample;
  return rest;
}
