import { expect, it } from "vitest";
import { describeStoreContract } from "../support/store-backends.js";

describeStoreContract("jti", ({ store, reopen }) => {
  const now = () => Date.now();

  it("creates a record once and answers the first value to later claims", async () => {
    const until = now() + 60_000;
    expect(await store().jti.claim("id-1", 111, until, now())).toEqual({ created: true, value: 111 });
    expect(await store().jti.claim("id-1", 222, until, now())).toEqual({ created: false, value: 111 });
    expect(await store().jti.claim("id-2", 333, until, now())).toEqual({ created: true, value: 333 });
  });

  it("lets exactly one of many concurrent claims on one id create the record", async () => {
    const until = now() + 60_000;
    const claims = await Promise.all(Array.from({ length: 50 }, (_, index) => store().jti.claim("race", index, until, now())));
    expect(claims.filter((claim) => claim.created)).toHaveLength(1);
    const winner = claims.find((claim) => claim.created)!.value;
    expect(claims.every((claim) => claim.value === winner)).toBe(true);
  });

  it("forgets a record once it has lapsed", async () => {
    const start = now();
    expect((await store().jti.claim("short", 1, start + 1000, start)).created).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await store().jti.claim("short", 2, now() + 60_000, now())).toEqual({ created: true, value: 2 });
  });

  it("keeps live records across a restart", async () => {
    await store().jti.claim("kept", 7, now() + 60_000, now());
    expect(await (await reopen()).jti.claim("kept", 8, now() + 60_000, now())).toEqual({ created: false, value: 7 });
  });
});
