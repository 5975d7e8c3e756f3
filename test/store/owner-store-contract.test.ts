import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { Invalidation } from "../../src/store/store.js";
import { eventually } from "../support/eventually.js";
import { describeStoreContract } from "../support/store-backends.js";
import { aStoredToken, heardInvalidations } from "../support/store-fixtures.js";

describeStoreContract("owner", ({ store, reopen }) => {
  it("knows no record of an owner never changed", async () => {
    expect(await store().owners.get("alice")).toBeUndefined();
  });

  it("deactivates and reactivates an owner, recording when and by whom, and keeps it across a restart", async () => {
    const deactivated = await store().owners.setActive("alice@example.com", false, 10, "tok_root");
    expect(deactivated).toEqual({ id: "alice@example.com", deactivatedAt: 10, changedAt: 10, changedBy: "tok_root" });
    expect(await (await reopen()).owners.get("alice@example.com")).toEqual(deactivated);

    const reactivated = await store().owners.setActive("alice@example.com", true, 20, "tok_other");
    expect(reactivated).toEqual({ id: "alice@example.com", changedAt: 20, changedBy: "tok_other" });
    expect(await store().owners.get("alice@example.com")).toEqual(reactivated);
  });

  it("changes nothing when the owner is already so", async () => {
    expect(await store().owners.setActive("bob", true, 5, "tok_root")).toBeUndefined();
    expect(await store().owners.get("bob")).toBeUndefined();
    await store().owners.setActive("bob", false, 6, "tok_root");
    expect(await store().owners.setActive("bob", false, 7, "tok_later")).toBeUndefined();
    expect(await store().owners.get("bob")).toEqual({ id: "bob", deactivatedAt: 6, changedAt: 6, changedBy: "tok_root" });
  });

  it("of concurrent deactivations of one owner exactly one changes it", async () => {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => store().owners.setActive("carol", false, index, `tok_${index}`)));
    expect(answers.filter((answer) => answer !== undefined)).toHaveLength(1);
  });

  it("keeps a token's and a team's owner", async () => {
    const token = aStoredToken({ owner: "dave" });
    await store().tokens.insert(token);
    const team = { id: randomUUID(), name: "payments", owner: "dave", libraries: ["lib-1"], createdAt: 1 };
    await store().teams.insert(team);
    await reopen();
    expect((await store().tokens.get(token.id))?.owner).toBe("dave");
    expect((await store().teams.get(team.id))?.owner).toBe("dave");
    expect((await store().teams.list()).map((listed) => listed.owner)).toEqual(["dave"]);
  });

  it("deactivates and reactivates a token, and leaves a revoked one revoked", async () => {
    const token = aStoredToken();
    await store().tokens.insert(token);
    expect((await store().tokens.setActive(token.id, false, 30))?.deactivatedAt).toBe(30);
    expect((await (await reopen()).tokens.get(token.id))?.deactivatedAt).toBe(30);
    expect(await store().tokens.setActive(token.id, false, 31)).toBeUndefined();
    const reactivated = await store().tokens.setActive(token.id, true, 32);
    expect(reactivated).toBeDefined();
    expect(reactivated?.deactivatedAt).toBeUndefined();
    expect(await store().tokens.setActive(token.id, true, 33)).toBeUndefined();

    await store().tokens.revoke(token.id, 40);
    expect(await store().tokens.setActive(token.id, false, 41)).toBeUndefined();
    expect(await store().tokens.setActive(token.id, true, 41)).toBeUndefined();
    expect(await store().tokens.setActive(aStoredToken().id, false, 42)).toBeUndefined();
    expect((await store().tokens.get(token.id))?.deactivatedAt).toBeUndefined();
  });

  it("announces every change of an owner's or a token's state once written, and nothing for a change that changed nothing", async () => {
    const token = aStoredToken();
    const { events, stop } = await heardInvalidations(store());
    await store().tokens.insert(token);
    // A Cluster relays a PUBLISH between masters with a delay: the insert is heard before the changes under test start.
    await eventually(async () => events.length === 1, 5000);
    events.length = 0;
    await store().owners.setActive("erin", false, 1, "tok_root");
    await store().owners.setActive("erin", false, 2, "tok_root");
    await store().owners.setActive("erin", true, 3, "tok_root");
    await store().tokens.setActive(token.id, false, 4);
    await store().tokens.setActive(token.id, false, 5);
    await store().tokens.setActive(token.id, true, 6);
    const expected: Invalidation[] = [
      { kind: "owner", id: "erin" },
      { kind: "owner", id: "erin" },
      { kind: "token", id: token.id },
      { kind: "token", id: token.id },
    ];
    await eventually(async () => events.length >= expected.length, 5000);
    expect(events).toHaveLength(expected.length);
    expect(events).toEqual(expect.arrayContaining(expected));
    stop();
  });
});
