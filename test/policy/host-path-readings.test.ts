import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Authenticator } from "../../src/credentials/authenticator.js";
import { DecisionEngine } from "../../src/decision/engine.js";
import { Policy } from "../../src/policy/policy.js";
import { HOST_PATH_POLICY, reachesProtected, requestArbitrary } from "../support/url-readings.js";

const engine = new DecisionEngine(new Policy(HOST_PATH_POLICY), new Authenticator([]));

describe("the engine against other readings of a host and path", () => {
  it("never allows, without a credential, a request any other reading routes to a guarded target", async () => {
    const seen = { allowed: 0, guardedDenied: 0 };
    await fc.assert(
      fc.asyncProperty(requestArbitrary, async (request) => {
        const decision = await engine.decide({ authorization: "", resource: `${request.method} ${request.path}`, host: request.host });
        if (decision.allowed) seen.allowed++;
        if (!reachesProtected(request)) return;
        expect({ request, decision }).toMatchObject({ request, decision: { allowed: false } });
        seen.guardedDenied++;
      }),
      { numRuns: 10_000 },
    );
    // Neither side may be empty, or the property would prove nothing.
    expect(seen.allowed).toBeGreaterThan(250);
    expect(seen.guardedDenied).toBeGreaterThan(250);
  });
});
