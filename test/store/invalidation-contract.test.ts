import { randomBytes, randomUUID } from "node:crypto";
import { expect, it } from "vitest";
import type { Invalidation } from "../../src/store/store.js";
import { eventually } from "../support/eventually.js";
import { describeStoreContract } from "../support/store-backends.js";
import { aStoredToken, heardInvalidations } from "../support/store-fixtures.js";

const aKey = () => ({ kid: `kid-${randomBytes(6).toString("hex")}`, algorithm: "HS256" as const, secret: "c2VjcmV0", createdAt: 1 });

describeStoreContract("invalidation", ({ store }) => {
  it("announces every change that can take access away, by record kind and id, once it is written", async () => {
    const { events, stop } = await heardInvalidations(store());
    const token = aStoredToken();
    const team = { id: randomUUID(), name: "payments", libraries: ["lib-1"], createdAt: 1 };
    const first = aKey();
    const second = aKey();

    await store().tokens.insert(token);
    await store().tokens.revoke(token.id, 2);
    await store().teams.insert(team);
    await store().teams.rotateJti(team.id, undefined, "tok_jti");
    await store().teams.clearJti(team.id, "tok_jti");
    await store().teams.assignLibraries(team.id, ["lib-2"]);
    await store().teams.deactivate(team.id, 3);
    await store().signingKeys.create(first);
    await store().signingKeys.create(second);
    await store().signingKeys.retire(second.kid, 4);

    const expected: Invalidation[] = [
      { kind: "token", id: token.id },
      { kind: "token", id: token.id },
      { kind: "team", id: team.id },
      { kind: "team", id: team.id },
      { kind: "team", id: team.id },
      { kind: "team", id: team.id },
      // Creating the second key demotes the first to verify-only.
      { kind: "signing_key", id: first.kid },
      { kind: "signing_key", id: second.kid },
    ];
    await eventually(async () => events.length >= expected.length, 5000);
    // A Redis Cluster delivers what different masters published in no fixed order; each record's own changes come from one master, in order.
    expect(events).toHaveLength(expected.length);
    expect(events).toEqual(expect.arrayContaining(expected));
    stop();
  });

  it("announces nothing for a change that changed nothing, nor for a recorded use", async () => {
    const token = aStoredToken();
    const { events, stop } = await heardInvalidations(store());
    await store().tokens.insert(token);
    await store().tokens.revoke(token.id, 2);
    // A Cluster relays a PUBLISH between masters with a delay: the changes above are heard before the ones under test start.
    await eventually(async () => events.length === 2, 5000);
    events.length = 0;

    expect(await store().tokens.revoke(token.id, 3)).toBeUndefined();
    await store().tokens.touch(token.id, 4);
    expect(await store().teams.deactivate(randomUUID(), 5)).toBeUndefined();
    expect(await store().teams.clearJti(randomUUID(), "tok_none")).toBe(false);
    // A marker change after them: once it is heard, anything announced before it was heard too.
    const marker = aStoredToken();
    await store().tokens.insert(marker);
    await eventually(async () => events.length > 0, 5000);
    expect(events).toEqual([{ kind: "token", id: marker.id }]);
    stop();
  });
});
