import type { Identity } from "../model/identity.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import type { CallerDecider, CallerRequirement } from "./decision.js";

/** The caller's identity when the engine lets it make the call; what the APIs and administration take. */
export type CallerGate = (authorization: string, requirement: CallerRequirement) => Promise<Identity>;

/**
 * Turns the engine's answer to a caller question into the identity, or into
 * the error the API answers: Unauthenticated for a refused credential,
 * PermissionDenied for one that may not make the call.
 */
export function callerGate(engine: CallerDecider): CallerGate {
  return async (authorization, requirement) => {
    const decision = await engine.decideCaller({ authorization, requirement });
    if (decision.allowed) return decision.identity;
    if (decision.denial === "unauthenticated") throw new UnauthenticatedError(decision.reason);
    throw new PermissionDeniedError(refusal(requirement));
  };
}

function refusal(requirement: CallerRequirement): string {
  switch (requirement.kind) {
    case "any_credential":
      return "this call needs a valid credential";
    case "root":
      return `${requirement.purpose} needs a root token`;
    case "root_or_scope":
      return `this call needs a root token or scope "${requirement.scope}"`;
  }
}
