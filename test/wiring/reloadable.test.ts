import { describe, expect, it } from "vitest";
import type { Verification } from "../../src/credentials/credential-verifier.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { Policy } from "../../src/policy/policy.js";
import { liveEngine } from "../../src/wiring/live-parts.js";
import { reloadable } from "../../src/wiring/reloadable.js";
import { fakeVerifier, identity } from "../decision/fakes.js";

/** An authenticator whose answers wait until the test lets them go, so a swap can happen mid-decision. */
function heldAuthenticator() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const firstArrived = new Promise<void>((resolve) => (arrived = resolve));
  const { authenticator } = fakeVerifier({
    "reader-token": () => ({ identity: identity({ tokenId: "reader", scopes: ["orders:read"] }) }),
  });
  const held = {
    async authenticate(authorization: string): Promise<Verification> {
      arrived();
      await released;
      return authenticator.authenticate(authorization);
    },
  };
  return { held, release, firstArrived };
}

const engineRequiring = (scope: string, authenticator: ConstructorParameters<typeof DecisionEngine>[1]) =>
  new DecisionEngine(new Policy({ rules: [{ path: "/orders", scope }] }), authenticator);

const ordersRequest = { authorization: "Bearer reader-token", resource: "GET /orders" };

describe("the holder of the reloadable parts", () => {
  it("lets a decision in progress finish with the configuration it started with, and gives the next one the new configuration", async () => {
    const { held, release, firstArrived } = heldAuthenticator();
    const live = reloadable({ engine: engineRequiring("orders:read", held) }, (error) => {
      throw error;
    });
    const decider = liveEngine(live);

    const started = decider.decide(ordersRequest);
    await firstArrived;
    live.swap({ engine: engineRequiring("orders:write", held) });
    const after = decider.decide(ordersRequest);
    release();

    expect(await started).toMatchObject({ allowed: true, reason: "ok", requiredScope: "orders:read" });
    expect(await after).toMatchObject({ allowed: false, reason: "insufficient_scope", requiredScope: "orders:write" });
  });

  it("tells its listeners after a swap, with the new and the replaced value, and a listener's failure does not undo the swap", () => {
    const reported: unknown[] = [];
    const live = reloadable("first", (error) => reported.push(error));
    const heard: string[] = [];
    live.onReloaded(() => {
      throw new Error("cache flush failed");
    });
    live.onReloaded((next, previous) => heard.push(`${previous}->${next} (current ${live.current()})`));

    expect(live.swap("second")).toBe("first");

    expect(live.current()).toBe("second");
    expect(heard).toEqual(["first->second (current second)"]);
    expect(reported).toEqual([new Error("cache flush failed")]);
  });

  it("stops telling a listener once it is removed, and keeps telling the others", () => {
    const live = reloadable(1, () => undefined);
    const heard: string[] = [];
    const listener = (next: number) => heard.push(`a${next}`);
    const removeFirst = live.onReloaded(listener);
    live.onReloaded((next) => heard.push(`b${next}`));
    live.swap(2);
    removeFirst();
    live.swap(3);
    expect(heard).toEqual(["a2", "b2", "b3"]);
  });
});
