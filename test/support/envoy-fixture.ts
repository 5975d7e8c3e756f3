import { create } from "@bufbuild/protobuf";
import { DurationSchema } from "@bufbuild/protobuf/wkt";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { bearer, createClients } from "./clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "./portcullis-process.js";

/** The policy the Envoy tests run against: routes, a host rule, tools, a public path. */
export const TEST_POLICY = {
  rules: [
    { name: "health", path: "/health", public: true },
    { name: "kafka-read", path_prefix: "/api/kafka", methods: ["GET", "HEAD"], scope: "kafka:read" },
    { name: "kafka-write", path_prefix: "/api/kafka", methods: ["POST", "PUT", "DELETE"], scope: "kafka:write" },
    { name: "admin-area", path_prefix: "/admin", scope: "admin" },
    { name: "reports", host: "reports.example.com", path_prefix: "/", scope: "reports:read" },
    { name: "tool-search", tool: "search", scope: "tools:search" },
    { name: "tools", tool: "*", scope: "tools:use" },
  ],
};

export const RESOURCE_METADATA_URL = "https://api.example.com/.well-known/oauth-protected-resource";

/** Tokens minted for the tests, by role; secrets live only in this test process. */
export interface TestTokens {
  root: string;
  reader: string;
  writer: string;
  toolUser: string;
  revoked: string;
  expired: string;
  unknown: string;
}

export interface EnvoyFixture {
  server: PortcullisProcess;
  tokens: TestTokens;
}

/** Writes a config file, starts Portcullis on it and mints the test tokens through the admin API. */
export async function startEnvoyFixture(options: { config?: object; env?: Record<string, string> } = {}): Promise<EnvoyFixture> {
  const root = `pcl_root_${randomBytes(24).toString("hex")}`;
  const dir = await mkdtemp(join(tmpdir(), "portcullis-envoy-"));
  const configPath = join(dir, "portcullis.yaml");
  await writeFile(
    configPath,
    stringify({
      policy: TEST_POLICY,
      envoy: { realm: "example", resource_metadata_url: RESOURCE_METADATA_URL, remove_authorization: true },
      ...options.config,
    }),
  );
  // The config is read once, at start; its directory is not kept past that.
  const server = await startPortcullisProcess({
    env: { PORTCULLIS_CONFIG: configPath, PORTCULLIS_ROOT_TOKENS: root, ...options.env },
  }).finally(() => rm(dir, { recursive: true, force: true }));
  try {
    return { server, tokens: await mintTestTokens(server.url, root) };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

export async function mintTestTokens(url: string, root: string): Promise<TestTokens> {
  const { admin } = createClients(url);
  const asRoot = bearer(root);
  const mint = async (name: string, scopes: string[], extra: { allowedLibraries?: string[]; allowedTools?: string[]; ttlMs?: number } = {}) => {
    const ttl = extra.ttlMs === undefined ? undefined : create(DurationSchema, { seconds: 0n, nanos: extra.ttlMs * 1_000_000 });
    return admin.mintToken(
      { name, scopes, allowedLibraries: extra.allowedLibraries ?? [], allowedTools: extra.allowedTools ?? [], ttl },
      asRoot,
    );
  };
  const reader = await mint("reader", ["kafka:read", "reports:read"], { allowedLibraries: ["lib-a", "lib-b"] });
  const writer = await mint("writer", ["kafka:read", "kafka:write"]);
  const toolUser = await mint("tool-user", ["tools:use", "tools:search"], { allowedTools: ["search", "lookup"] });
  const revoked = await mint("revoked", ["kafka:read"]);
  await admin.revokeToken({ tokenId: revoked.record!.tokenId }, asRoot);
  const expired = await mint("expired", ["kafka:read"], { ttlMs: 1 });
  return {
    root,
    reader: reader.token,
    writer: writer.token,
    toolUser: toolUser.token,
    revoked: revoked.token,
    expired: expired.token,
    unknown: `pcl_${randomBytes(32).toString("base64url")}`,
  };
}
