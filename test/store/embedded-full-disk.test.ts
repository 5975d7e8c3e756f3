import { randomUUID } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UnavailableError } from "../../src/errors.js";
import { EMBEDDED_DATA_FILE, EMBEDDED_RESERVE_FILE, openEmbeddedStore } from "../../src/store/embedded/embedded-store.js";
import { MIN_RESERVE_BYTES } from "../../src/store/embedded/space-reserve.js";
import type { Store } from "../../src/store/store.js";
import { mountSmallDisk, smallDiskUnavailable, type SmallDisk } from "../support/small-disk.js";
import { aStoredToken } from "../support/store-fixtures.js";

async function refusal(write: Promise<unknown>): Promise<unknown> {
  return write.then(
    () => "written",
    (error: unknown) => error,
  );
}

const unavailable = await smallDiskUnavailable();
if (unavailable !== undefined) console.warn(`full-disk tests skipped: ${unavailable}`);

describe.skipIf(unavailable !== undefined)("the embedded store on a full disk (a 2 MiB tmpfs)", () => {
  let disk: SmallDisk;
  let store: Store | undefined;
  const warnings: string[] = [];
  const open = async () => (store = await openEmbeddedStore(disk.dir, { warn: (message) => warnings.push(message) }));
  const dataFile = () => join(disk.dir, EMBEDDED_DATA_FILE);

  beforeEach(async () => {
    disk = await mountSmallDisk(2 * 1024 * 1024);
    warnings.length = 0;
  });
  afterEach(async () => {
    await store?.close();
    store = undefined;
    await disk.dispose();
  });

  it("refuses other writes, still revokes durably, and writes again once there is room", async () => {
    const tokens = (await open()).tokens;
    const kept = aStoredToken({ createdAt: 1 });
    const stolen = aStoredToken({ createdAt: 2 });
    const team = { id: randomUUID(), name: "payments", libraries: ["lib-1"], createdAt: 3 };
    await tokens.insert(kept);
    await tokens.insert(stolen);
    await store!.teams.insert(team);
    await disk.fill();
    const fileBefore = await readFile(dataFile());

    const refused = await refusal(tokens.insert(aStoredToken({ createdAt: 4 })));
    expect(refused).toBeInstanceOf(UnavailableError);
    expect(refused).toMatchObject({ reason: "store_write_failing", detail: "ENOSPC" });
    expect(await readFile(dataFile())).toEqual(fileBefore);
    expect(await tokens.list()).toEqual([kept, stolen]);
    await expect(store!.ping()).rejects.toMatchObject({ reason: "store_write_failing" });

    expect(await tokens.revoke(stolen.id, 10)).toMatchObject({ id: stolen.id, revokedAt: 10 });
    expect(warnings).toEqual([expect.stringContaining("spent the space reserve")]);
    // The space the reserve gave back holds more than one revocation.
    expect(await store!.teams.deactivate(team.id, 11)).toMatchObject({ deactivatedAt: 11 });
    // Whatever keeps filling the disk takes the rest.
    await disk.fill();
    expect(await refusal(tokens.insert(aStoredToken({ createdAt: 5 })))).toMatchObject({ reason: "store_write_failing" });
    await expect(store!.ping()).rejects.toMatchObject({ reason: "store_write_failing" });

    await store!.close();
    await open();
    expect((await store!.tokens.get(stolen.id))?.revokedAt).toBe(10);
    expect((await store!.teams.get(team.id))?.deactivatedAt).toBe(11);
    await expect(store!.ping()).rejects.toMatchObject({ reason: "store_write_failing" });

    await disk.free();
    // Nothing else writes while readiness fails, so the check itself tries a write.
    await store!.ping();
    expect((await stat(join(disk.dir, EMBEDDED_RESERVE_FILE))).size).toBeGreaterThanOrEqual(MIN_RESERVE_BYTES);
    const later = aStoredToken({ createdAt: 6 });
    await store!.tokens.insert(later);
    expect((await store!.tokens.list()).map((token) => token.id)).toEqual([kept.id, stolen.id, later.id]);
  });

  it("holds a reserve of a few copies of the document as it grows", async () => {
    const tokens = (await open()).tokens;
    const reserveSize = async () => (await stat(join(disk.dir, EMBEDDED_RESERVE_FILE))).size;
    expect(await reserveSize()).toBe(MIN_RESERVE_BYTES);
    await Promise.all(Array.from({ length: 40 }, (_, index) => tokens.insert(aStoredToken({ createdAt: index, name: "n".repeat(4096) }))));
    const documentSize = (await stat(dataFile())).size;
    expect(documentSize).toBeGreaterThan(MIN_RESERVE_BYTES / 2);
    expect(await reserveSize()).toBeGreaterThanOrEqual(2 * documentSize);
  });
});
