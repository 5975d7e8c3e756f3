import { beforeAll, expect, it } from "vitest";
import type { DcrRegistry } from "../../src/oauth/dcr-registry.js";
import { describeDcrContract } from "../support/dcr-backends.js";
import { exampleResolution, nowSeconds } from "../support/dcr-fixtures.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeDcrContract("registration lease", ({ backend, registry, freshKey }) => {
  let dcr: DcrRegistry;
  beforeAll(() => {
    dcr = registry();
  });

  it("grants one lease, tells the next caller it is held, and is released by the holder's put", async () => {
    const key = freshKey();
    const first = await dcr.acquire(key, 5000);
    expect("lease" in first).toBe(true);
    const second = await dcr.acquire(key, 5000);
    expect("held" in second).toBe(true);
    const leaseId = "lease" in first ? first.lease.leaseId : "";
    const { leaseReleased } = await dcr.put(key, exampleResolution({ clientId: "leader" }), leaseId);
    expect(leaseReleased).toBe(true);
    const third = await dcr.acquire(key, 5000);
    expect("entry" in third && third.entry.record.clientId).toBe("leader");
  });

  it("refuses a put with a lease id that is not the key's lease, writes nothing and leaves the lease in force", async () => {
    const key = freshKey();
    await dcr.acquire(key, 5000);
    await expect(dcr.put(key, exampleResolution(), "not-the-lease")).rejects.toMatchObject({
      code: "aborted",
      message: expect.stringMatching(/^lease_lost:/),
    });
    expect(await backend().storedText(key)).toBeUndefined();
    expect("held" in (await dcr.acquire(key, 5000))).toBe(true);
  });

  it("refuses the late put of a registrant whose lease expired and passed to another, keeping the newer entry", async () => {
    const key = freshKey();
    const stalled = await dcr.acquire(key, 1000);
    expect(await dcr.await(key, 5000)).toEqual({ outcome: "lease_expired" });
    const successor = await dcr.acquire(key, 5000);
    const waiting = dcr.await(key, 5000);
    await dcr.put(key, exampleResolution({ clientId: "client-B" }), "lease" in successor ? successor.lease.leaseId : "");
    const woken = await waiting;
    expect(woken.outcome === "resolved" && woken.entry.record.clientId).toBe("client-B");
    const storedByB = await backend().storedText(key);

    const late = dcr.put(key, exampleResolution({ clientId: "client-A" }), "lease" in stalled ? stalled.lease.leaseId : "");
    await expect(late).rejects.toMatchObject({ code: "aborted", message: expect.stringMatching(/^lease_lost:/) });
    expect(await backend().storedText(key)).toBe(storedByB);
    expect((await dcr.get(key)).record.clientId).toBe("client-B");
  });

  it("refuses the put of a registrant whose lease expired even when nobody took it over", async () => {
    const key = freshKey();
    const stalled = await dcr.acquire(key, 1000);
    expect(await dcr.await(key, 5000)).toEqual({ outcome: "lease_expired" });
    const late = dcr.put(key, exampleResolution({ clientId: "client-A" }), "lease" in stalled ? stalled.lease.leaseId : "");
    await expect(late).rejects.toMatchObject({ code: "aborted", message: expect.stringMatching(/^lease_lost:/) });
    expect(await backend().storedText(key)).toBeUndefined();
    expect("lease" in (await dcr.acquire(key, 1000))).toBe(true);
  });

  it("lets another caller take the lease once it expires without a put", async () => {
    const key = freshKey();
    expect("lease" in (await dcr.acquire(key, 1000))).toBe(true);
    expect(await dcr.await(key, 5000)).toEqual({ outcome: "lease_expired" });
    expect("lease" in (await dcr.acquire(key, 1000))).toBe(true);
  });

  it("takes a lease over an entry whose secret expired", async () => {
    const key = freshKey();
    await dcr.put(key, exampleResolution({ clientSecretExpiresAt: nowSeconds() - 1 }), "");
    expect("lease" in (await dcr.acquire(key, 5000))).toBe(true);
  });

  it("wakes a waiter with the resolution the holder puts", async () => {
    const key = freshKey();
    const acquired = await dcr.acquire(key, 5000);
    const waiting = dcr.await(key, 5000);
    await sleep(100);
    await dcr.put(key, exampleResolution({ clientId: "from-leader" }), "lease" in acquired ? acquired.lease.leaseId : "");
    const result = await waiting;
    expect(result.outcome === "resolved" && result.entry.record.clientId).toBe("from-leader");
  });

  it("gives up waiting at the timeout while the lease is held", async () => {
    const key = freshKey();
    await dcr.acquire(key, 5000);
    expect(await dcr.await(key, 200)).toEqual({ outcome: "timeout" });
  });

  it("refuses lease lifetimes outside 1 s to 10 min", async () => {
    await expect(dcr.acquire(freshKey(), 10)).rejects.toMatchObject({ field: "ttl" });
    await expect(dcr.acquire(freshKey(), 3600_000)).rejects.toMatchObject({ field: "ttl" });
  });
});
