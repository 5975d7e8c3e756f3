import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { afterEach, describe, expect, it } from "vitest";
import { Decision } from "../../gen/portcullis/v1/authorization_pb.js";
import type { ListTokensResponse } from "../../gen/portcullis/v1/token_admin_pb.js";
import { EMBEDDED_DATA_FILE } from "../../src/store/embedded/embedded-store.js";
import { bearer, createClients, decide } from "../support/clients.js";
import { startPortcullisProcess, type PortcullisProcess } from "../support/portcullis-process.js";
import { eventually } from "../support/eventually.js";
import { makeReadOnly, makeWritable } from "../support/read-only-dir.js";

const ids = (response: ListTokensResponse) => response.tokens.map((token) => token.tokenId);

interface DataFile {
  tokens: Record<string, unknown>;
}

// Each test starts server processes one after another; on a loaded 2-core CI machine that alone has taken 30 s.
describe("a server on the embedded store", { timeout: 60_000 }, () => {
  const running: PortcullisProcess[] = [];
  const dataDirs: string[] = [];

  async function newDataDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "portcullis-embedded-"));
    dataDirs.push(dir);
    return dir;
  }
  async function start(dataDir: string): Promise<PortcullisProcess> {
    const server = await startPortcullisProcess({ dataDir });
    running.push(server);
    return server;
  }
  afterEach(async () => {
    await Promise.all(running.splice(0).map((server) => server.stop()));
    await Promise.all(dataDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it("still honours minted and revoked tokens after a restart", async () => {
    const dataDir = await newDataDir();
    const first = await start(dataDir);
    const rootToken = await first.rootToken();
    const before = createClients(first.url);
    const kept = await before.admin.mintToken({ scopes: ["orders:read"], name: "kept" }, bearer(rootToken));
    const revoked = await before.admin.mintToken({ scopes: ["orders:read"], name: "revoked" }, bearer(rootToken));
    await before.admin.revokeToken({ tokenId: revoked.record!.tokenId }, bearer(rootToken));
    expect(await first.stop()).toBe(0);

    const second = await start(dataDir);
    const after = createClients(second.url);
    expect(await second.rootToken()).toBe(rootToken);
    expect(await decide(after, kept.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    expect(await decide(after, revoked.token, "orders:read")).toEqual({ decision: Decision.DENY, reason: "token_revoked" });
    const listed = await after.admin.listTokens({}, bearer(rootToken));
    expect(ids(listed)).toEqual(expect.arrayContaining([kept.record!.tokenId, revoked.record!.tokenId]));
  });

  it("keeps all of 50 parallel mints, the data file whole and holding each one when its mint returns", async () => {
    const dataDir = await newDataDir();
    const server = await start(dataDir);
    const clients = createClients(server.url);
    const root = bearer(await server.rootToken());
    const dataFile = join(dataDir, EMBEDDED_DATA_FILE);
    const readDataFile = async () => JSON.parse(await readFile(dataFile, "utf8")) as DataFile;

    let minting = true;
    let concurrentReads = 0;
    const reader = (async () => {
      while (minting) {
        await readDataFile();
        concurrentReads++;
      }
    })();
    const startedAt = performance.now();
    const minted = await Promise.all(
      Array.from({ length: 50 }, async (_, index) => {
        const response = await clients.admin.mintToken({ scopes: [`topic-${index}:read`], name: `parallel-${index}` }, root);
        expect(Object.keys((await readDataFile()).tokens)).toContain(response.record!.tokenId);
        return response;
      }),
    );
    const elapsedMs = performance.now() - startedAt;
    minting = false;
    await reader;
    console.info(`50 parallel mints on the embedded store: ${elapsedMs.toFixed(0)} ms; file parsed ${concurrentReads} times meanwhile`);

    const listed = ids(await clients.admin.listTokens({}, root));
    const onDisk = Object.keys((await readDataFile()).tokens);
    for (const [index, response] of minted.entries()) {
      expect(listed).toContain(response.record!.tokenId);
      expect(onDisk).toContain(response.record!.tokenId);
      expect(await decide(clients, response.token, `topic-${index}:read`)).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    }
    expect(new Set(minted.map((response) => response.record!.tokenId)).size).toBe(50);
  });

  it("answers Unavailable while the data dir is read-only, leaving the file byte-identical and no new token", async () => {
    const dataDir = await newDataDir();
    const server = await start(dataDir);
    const clients = createClients(server.url);
    const root = bearer(await server.rootToken());
    const kept = await clients.admin.mintToken({ scopes: ["orders:read"], name: "kept" }, root);
    const dataFile = join(dataDir, EMBEDDED_DATA_FILE);
    const fileBefore = await readFile(dataFile);
    const idsBefore = ids(await clients.admin.listTokens({}, root));

    await makeReadOnly(dataDir);
    try {
      await expect(clients.admin.mintToken({ scopes: ["orders:write"], name: "refused" }, root)).rejects.toMatchObject({
        code: Code.Unavailable,
      });
      await expect(clients.admin.revokeToken({ tokenId: kept.record!.tokenId }, root)).rejects.toMatchObject({
        code: Code.Unavailable,
      });
      expect(await readFile(dataFile)).toEqual(fileBefore);
      expect(ids(await clients.admin.listTokens({}, root))).toEqual(idsBefore);
      expect(await decide(clients, kept.token, "orders:read")).toEqual({ decision: Decision.ALLOW, reason: "ok" });
    } finally {
      await makeWritable(dataDir);
    }
    // A last-used write started by the decision above may still be renaming its temp file into place.
    await eventually(async () => !(await readdir(dataDir)).some((name) => name.endsWith(".tmp")), 2000);

    const later = await clients.admin.mintToken({ scopes: ["orders:write"], name: "later" }, root);
    expect(await server.stop()).toBe(0);
    const restarted = await start(dataDir);
    const listedAfterRestart = await createClients(restarted.url).admin.listTokens({}, root);
    expect(ids(listedAfterRestart)).toEqual([...idsBefore, later.record!.tokenId]);
  });
});
