import type { Authenticator } from "../credentials/authenticator.js";
import type { Decider } from "../decision/decision.js";
import type { DecisionRecorder } from "./decision-recorder.js";

export type CredentialCheck = Pick<Authenticator, "authenticate">;

/**
 * The engine with every decision counted, timed and logged; what it decides
 * is passed through untouched, and what it throws is rethrown.
 */
export function instrumentedEngine(engine: Decider, recorder: DecisionRecorder): Decider {
  return {
    async decide(request) {
      const started = performance.now();
      try {
        const decision = await engine.decide(request);
        recorder.decided(decision.allowed, decision.reason, decision.identity, request.resource, started);
        return decision;
      } catch (error) {
        recorder.failed(error, request.resource, started);
        throw error;
      }
    },
  };
}

/**
 * The same for transports that only verify a credential (ResolveLibraries):
 * a verified identity counts as an allow ("ok"), a rejection as a deny with
 * its reason.
 */
export function instrumentedCredentialCheck(authenticator: CredentialCheck, recorder: DecisionRecorder): CredentialCheck {
  return {
    async authenticate(authorization) {
      const started = performance.now();
      try {
        const verification = await authenticator.authenticate(authorization);
        if ("identity" in verification) recorder.decided(true, "ok", verification.identity, undefined, started);
        else recorder.decided(false, verification.rejection.reason, undefined, undefined, started);
        return verification;
      } catch (error) {
        recorder.failed(error, undefined, started);
        throw error;
      }
    },
  };
}
