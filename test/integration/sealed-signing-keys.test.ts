import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import { SigningKeyAlgorithm } from "../../gen/portcullis/v1/signing_keys_pb.js";
import { TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { bearer, createClients, decide } from "../support/clients.js";
import { startInProcess, type InProcessPortcullis } from "../support/in-process.js";
import { TEST_TOPOLOGIES, testRedisPrefix } from "../support/redis.js";
import { redisText } from "../support/store-backends.js";

const K1 = randomBytes(32).toString("base64");
const K2 = randomBytes(32).toString("base64");
const ROOT = randomBytes(32).toString("base64url");
/** A private JWK's `d` as it would be stored clear, inside the record's JSON (escaped once or more). */
const CLEAR_PRIVATE_JWK = /\\+"d\\+":\\+"[A-Za-z0-9_-]{20,}/;

const RINGS = {
  none: {},
  first: { PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ id: "k1", key: K1 }]) },
  rotated: { PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ id: "k1", key: K1 }, { id: "k2", key: K2 }]), PORTCULLIS_ENCRYPTION_SEAL_WITH: "k2" },
  second: { PORTCULLIS_ENCRYPTION_KEYS: JSON.stringify([{ id: "k2", key: K2 }]) },
};

interface Backend {
  env: Record<string, string>;
  storedText(): Promise<string>;
  dispose(): Promise<void>;
}

async function embedded(): Promise<Backend> {
  const dataDir = await mkdtemp(join(tmpdir(), "portcullis-sealed-keys-"));
  return {
    env: { PORTCULLIS_DATA_DIR: dataDir },
    async storedText() {
      const files = await readdir(dataDir, { recursive: true, withFileTypes: true });
      const texts = await Promise.all(files.filter((file) => file.isFile()).map((file) => readFile(join(file.parentPath, file.name), "utf8")));
      return texts.join("\n");
    },
    dispose: () => rm(dataDir, { recursive: true, force: true }),
  };
}

async function redis(): Promise<Backend> {
  const topology = TEST_TOPOLOGIES[0]!;
  const { prefix, cleanup } = testRedisPrefix(topology.settings);
  const dataDir = await mkdtemp(join(tmpdir(), "portcullis-sealed-keys-"));
  return {
    env: { REDIS_URL: topology.settings.url!, PORTCULLIS_REDIS_PREFIX: prefix, PORTCULLIS_DATA_DIR: dataDir },
    storedText: () => redisText(topology, prefix),
    async dispose() {
      await cleanup();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describe.each([
  { name: "embedded", open: embedded },
  { name: "redis", open: redis },
])("team signing keys sealed at rest on the $name store", ({ open }) => {
  let backend: Backend;
  let server: InProcessPortcullis | undefined;
  let logs = "";
  const minted: string[] = [];

  beforeAll(async () => {
    backend = await open();
  });
  afterAll(async () => {
    await server?.stop();
    await backend?.dispose();
  });

  /** Stops the running server (keeping its log) and starts one on the same storage with `ring`. */
  async function restartWith(ring: Record<string, string>): Promise<ReturnType<typeof createClients>> {
    if (server !== undefined) {
      logs += server.output();
      await server.stop();
    }
    server = await startInProcess({ ...backend.env, PORTCULLIS_ROOT_TOKENS: ROOT, ...ring });
    return createClients(server.url);
  }

  async function newKeyAndToken(clients: ReturnType<typeof createClients>): Promise<void> {
    await clients.admin.createSigningKey({ algorithm: SigningKeyAlgorithm.ES256 }, bearer(ROOT));
    const { team } = await clients.admin.createTeam({ name: `team-${minted.length}`, libraries: ["lib-a"] }, bearer(ROOT));
    const mintedToken = await clients.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"] }, bearer(ROOT));
    minted.push(mintedToken.token);
  }

  async function allAllowed(clients: ReturnType<typeof createClients>): Promise<void> {
    for (const token of minted) expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
  }

  it("warns without a key, then seals the clear key at the next start with one, and keeps its tokens valid", async () => {
    let clients = await restartWith(RINGS.none);
    await newKeyAndToken(clients);
    expect(server!.output()).toContain("encryption.keys is not set");
    expect(await backend.storedText()).toMatch(CLEAR_PRIVATE_JWK);

    clients = await restartWith(RINGS.first);
    expect(server!.output()).toMatch(/sealing: signing keys re-sealed under the sealing key/);
    const stored = await backend.storedText();
    expect(stored).not.toMatch(CLEAR_PRIVATE_JWK);
    expect(stored).toContain("pcl-enc:v1:k1:");
    await allAllowed(clients);
    await newKeyAndToken(clients);
    await allAllowed(clients);
  });

  it("opens keys sealed with the previous key after a rotation, re-seals them at start, and needs only the new key afterwards", async () => {
    let clients = await restartWith(RINGS.rotated);
    await allAllowed(clients);
    const stored = await backend.storedText();
    expect(stored).toContain("pcl-enc:v1:k2:");
    expect(stored).not.toContain("pcl-enc:v1:k1:");
    await newKeyAndToken(clients);

    clients = await restartWith(RINGS.second);
    await allAllowed(clients);
    await newKeyAndToken(clients);
    await allAllowed(clients);
    expect(await backend.storedText()).not.toMatch(CLEAR_PRIVATE_JWK);
  });

  it("denies tokens of a key no configured key opens and refuses to mint with it, still lists and retires it, and never logs a key", async () => {
    const clients = await restartWith(RINGS.first);
    expect(server!.output()).toMatch(/sealing: signing key [\w-]+: secret_key_unknown: .*key id k2.*left as stored/);
    const { team } = await clients.admin.createTeam({ name: "unreadable", libraries: ["lib-a"] }, bearer(ROOT));
    await expect(clients.admin.mintToken({ kind: TokenKind.TEAM_JWT, teamId: team!.teamId, scopes: ["kafka:read"] }, bearer(ROOT))).rejects.toThrow(
      /secret_key_unknown/,
    );
    for (const token of minted) expect(await decide(clients, token, "kafka:read")).toEqual({ decision: Decision.DENY, reason: "unknown_key" });
    expect(server!.output()).toContain("stored signing key cannot be opened");
    const jwks = (await (await fetch(`${server!.url}/.well-known/jwks.json`)).json()) as { keys: { d?: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((key) => key.d === undefined)).toBe(true);
    // The way out: the keys still list, and retire; a new key signs.
    const { keys } = await clients.admin.listSigningKeys({}, bearer(ROOT));
    expect(keys.length).toBe(minted.length);
    for (const key of keys) await clients.admin.retireSigningKey({ kid: key.kid }, bearer(ROOT));
    minted.length = 0;
    await newKeyAndToken(clients);
    await allAllowed(clients);
    logs += server!.output();
    for (const key of [K1, K2]) expect(logs).not.toContain(key);
  });
});
