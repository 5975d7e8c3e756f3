import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import { DATA_DIR_LOCK } from "../../src/store/embedded/data-dir-lock.js";
import { EMBEDDED_DATA_FILE, EMBEDDED_RESERVE_FILE, openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import type { Store } from "../../src/store/store.js";
import { eventually } from "../support/eventually.js";
import { aStoredToken } from "../support/store-fixtures.js";

describe("the embedded store", () => {
  let dataDir: string;
  let store: Store | undefined;
  const dataFile = () => join(dataDir, EMBEDDED_DATA_FILE);

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "portcullis-embedded-"));
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await rm(dataDir, { recursive: true, force: true });
  });

  it("makes a change visible only once it is in the data file", async () => {
    store = await openEmbeddedStore(dataDir);
    const tokens = Array.from({ length: 20 }, (_, index) => aStoredToken({ createdAt: index }));
    const inserted = Promise.all(tokens.map((token) => store!.tokens.insert(token)));
    let done = false;
    void inserted.then(() => (done = true));
    let observations = 0;
    while (!done) {
      const visible = (await store.tokens.list()).map((token) => token.id);
      const onDisk = Object.keys((JSON.parse(await readFile(dataFile(), "utf8").catch(() => "{}")) as { tokens?: object }).tokens ?? {});
      // The file is read after memory, so it may be ahead, never behind.
      expect(onDisk).toEqual(expect.arrayContaining(visible));
      observations++;
    }
    await inserted;
    expect(observations).toBeGreaterThan(0);
  });

  it("answers Unavailable for a change it cannot write and keeps memory as it was", async () => {
    store = await openEmbeddedStore(dataDir);
    const kept = aStoredToken({ createdAt: 1 });
    await store.tokens.insert(kept);
    await rm(dataDir, { recursive: true });

    const lost = aStoredToken({ createdAt: 2 });
    await expect(store.tokens.insert(lost)).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.tokens.revoke(kept.id, 3)).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.tokens.claimBootstrap(aStoredToken({ createdAt: 4 }))).rejects.toBeInstanceOf(UnavailableError);
    expect(await store.tokens.list()).toEqual([kept]);

    await mkdir(dataDir);
    const later = aStoredToken({ createdAt: 5 });
    await store.tokens.insert(later);
    await store.close();
    store = await openEmbeddedStore(dataDir);
    expect(await store.tokens.list()).toEqual([kept, later]);
  });

  it("removes temp files an interrupted write left behind when it opens", async () => {
    const leftover = join(dataDir, `.${EMBEDDED_DATA_FILE}.0123456789ab.tmp`);
    const unrelated = join(dataDir, "notes.tmp");
    await writeFile(leftover, '{"format":1,"tok');
    await writeFile(unrelated, "keep me");
    store = await openEmbeddedStore(dataDir);
    expect((await readdir(dataDir)).sort()).toEqual(["notes.tmp", DATA_DIR_LOCK, EMBEDDED_RESERVE_FILE]);
  });

  it("refuses to start on a data file it cannot read rather than overwrite it", async () => {
    await writeFile(dataFile(), '{"format":1,"tokens":{"tok_');
    await expect(openEmbeddedStore(dataDir)).rejects.toThrow(/portcullis\.json/);
    await writeFile(dataFile(), "null");
    await expect(openEmbeddedStore(dataDir)).rejects.toThrow(/portcullis\.json/);
    await writeFile(dataFile(), '{"format":2,"tokens":{}}');
    await expect(openEmbeddedStore(dataDir)).rejects.toThrow(/format/);
    expect(await readFile(dataFile(), "utf8")).toBe('{"format":2,"tokens":{}}');
  });

  it("refuses to open a data dir another store holds, naming the dir, while the holder keeps writing", async () => {
    store = await openEmbeddedStore(dataDir);
    await expect(openEmbeddedStore(dataDir)).rejects.toThrow(
      `another Portcullis process appears to be using data dir ${dataDir}`,
    );
    const token = aStoredToken({ createdAt: 1 });
    await store.tokens.insert(token);
    expect(await store.tokens.get(token.id)).toEqual(token);
  });

  it("opens the data dir again once the holder has closed, the lock removed with it", async () => {
    store = await openEmbeddedStore(dataDir);
    await store.close();
    expect(await readdir(dataDir)).not.toContain(DATA_DIR_LOCK);
    store = await openEmbeddedStore(dataDir);
    await store.tokens.insert(aStoredToken({ createdAt: 1 }));
  });

  it("refuses a write after it was closed", async () => {
    store = await openEmbeddedStore(dataDir);
    await store.close();
    await expect(store.tokens.insert(aStoredToken({ createdAt: 1 }))).rejects.toBeInstanceOf(UnavailableError);
    store = undefined;
  });

  it("takes over a lock left by a killed process only once it has gone unrefreshed for the stale time", async () => {
    const staleMs = 5000;
    const lockDir = join(dataDir, DATA_DIR_LOCK);
    await mkdir(lockDir);
    await expect(openEmbeddedStore(dataDir, { lockStaleMs: staleMs })).rejects.toThrow(/another Portcullis process/);

    const longAgo = new Date(Date.now() - staleMs - 1000);
    await utimes(lockDir, longAgo, longAgo);
    store = await openEmbeddedStore(dataDir, { lockStaleMs: staleMs });
    await store.tokens.insert(aStoredToken({ createdAt: 1 }));
    expect((await stat(lockDir)).mtimeMs).toBeGreaterThan(longAgo.getTime());
  });

  it("refuses every write and reports it once its lock is taken away while it runs", async () => {
    const lost: Error[] = [];
    store = await openEmbeddedStore(dataDir, { lockStaleMs: 2000, onLockLost: (error) => lost.push(error) });
    const kept = aStoredToken({ createdAt: 1 });
    await store.tokens.insert(kept);
    const fileBefore = await readFile(dataFile(), "utf8");

    await rm(join(dataDir, DATA_DIR_LOCK), { recursive: true });
    // The lock is checked at each refresh, every half stale time.
    await eventually(async () => lost.length > 0, 5000);

    expect(lost[0]!.message).toContain(`lost the lock on data dir ${dataDir}`);
    await expect(store.tokens.insert(aStoredToken({ createdAt: 2 }))).rejects.toThrow(/lost the lock/);
    await expect(store.tokens.revoke(kept.id, 3)).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.ping()).rejects.toBeInstanceOf(UnavailableError);
    expect(await readFile(dataFile(), "utf8")).toBe(fileBefore);
    expect(lost).toHaveLength(1);
  });
});
