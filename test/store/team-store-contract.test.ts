import { randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import { AbortedError, AlreadyExistsError } from "../../src/errors.js";
import type { StoredTeam } from "../../src/model/team.js";
import { describeStoreContract } from "../support/store-backends.js";

function aTeam(overrides: Partial<StoredTeam> = {}): StoredTeam {
  return { id: randomUUID(), name: "payments", libraries: ["lib-1"], createdAt: 1_700_000_000_000, ...overrides };
}

describeStoreContract("team", ({ store, reopen }) => {
  it("returns an inserted team exactly as it was given", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    expect(await store().teams.get(team.id)).toEqual(team);
    expect(await store().teams.get(randomUUID())).toBeUndefined();
  });

  it("refuses a taken id", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    await expect(store().teams.insert({ ...team, name: "intruder" })).rejects.toBeInstanceOf(AlreadyExistsError);
    expect((await store().teams.get(team.id))?.name).toBe("payments");
  });

  it("lists teams oldest first, ties by id", async () => {
    const ids = ["c", "a", "b"];
    for (const [index, id] of ids.entries()) await store().teams.insert(aTeam({ id, createdAt: index === 0 ? 2 : 1 }));
    expect((await store().teams.list()).map((team) => team.id)).toEqual(["a", "b", "c"]);
  });

  it("replaces the libraries of a team, active or not", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    expect(await store().teams.assignLibraries(team.id, ["x", "y"])).toEqual({ ...team, libraries: ["x", "y"] });
    await store().teams.deactivate(team.id, 10);
    expect((await store().teams.assignLibraries(team.id, []))?.libraries).toEqual([]);
    expect(await store().teams.assignLibraries(randomUUID(), ["x"])).toBeUndefined();
  });

  it("rotates the active jti of an active team only", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    expect((await store().teams.rotateJti(team.id, undefined, "jti-1"))?.activeJti).toBe("jti-1");
    expect((await store().teams.rotateJti(team.id, "jti-1", "jti-2"))?.activeJti).toBe("jti-2");
    expect(await store().teams.deactivate(team.id, 10)).toEqual({ ...team, activeJti: "jti-2", deactivatedAt: 10 });
    expect(await store().teams.deactivate(team.id, 11)).toBeUndefined();
    expect(await store().teams.rotateJti(team.id, "jti-2", "jti-3")).toBeUndefined();
    expect(await store().teams.rotateJti(randomUUID(), undefined, "jti-3")).toBeUndefined();
    expect((await store().teams.get(team.id))?.activeJti).toBe("jti-2");
  });

  it("rotates only while the active jti is still the one the caller read, and says so otherwise", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    await store().teams.rotateJti(team.id, undefined, "jti-1");
    await expect(store().teams.rotateJti(team.id, undefined, "jti-late")).rejects.toBeInstanceOf(AbortedError);
    await expect(store().teams.rotateJti(team.id, "jti-0", "jti-late")).rejects.toBeInstanceOf(AbortedError);
    expect((await store().teams.get(team.id))?.activeJti).toBe("jti-1");
  });

  it("lets exactly one of many concurrent rotations from the same jti succeed; the others are refused", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    const jtis = Array.from({ length: 20 }, (_, index) => `jti-${index}`);
    const results = await Promise.allSettled(jtis.map((jti) => store().teams.rotateJti(team.id, undefined, jti)));
    const won = results.flatMap((result, index) => (result.status === "fulfilled" ? [jtis[index]] : []));
    const refused = results.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : []));
    expect(won).toHaveLength(1);
    expect(refused.every((reason) => reason instanceof AbortedError)).toBe(true);
    expect((await store().teams.get(team.id))?.activeJti).toBe(won[0]);
  });

  it("clears the active jti only while it is still the one named, and a rotation from none follows", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    await store().teams.rotateJti(team.id, undefined, "jti-1");
    expect(await store().teams.clearJti(team.id, "jti-0")).toBe(false);
    expect((await store().teams.get(team.id))?.activeJti).toBe("jti-1");
    expect(await store().teams.clearJti(team.id, "jti-1")).toBe(true);
    expect(await store().teams.get(team.id)).toEqual(team);
    expect(await store().teams.clearJti(team.id, "jti-1")).toBe(false);
    expect(await store().teams.clearJti(randomUUID(), "jti-1")).toBe(false);
    expect((await store().teams.rotateJti(team.id, undefined, "jti-2"))?.activeJti).toBe("jti-2");
    expect(await (await reopen()).teams.get(team.id)).toEqual({ ...team, activeJti: "jti-2" });
  });

  it("keeps teams across a restart", async () => {
    const team = aTeam();
    await store().teams.insert(team);
    await store().teams.rotateJti(team.id, undefined, "jti-1");
    expect(await (await reopen()).teams.get(team.id)).toEqual({ ...team, activeJti: "jti-1" });
  });
});
