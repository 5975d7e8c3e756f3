import type { Identity } from "../model/identity.js";
import type { ReasonCode } from "../model/reason-codes.js";
import type { RequestHost } from "../policy/resource.js";

/** The question every transport asks the engine. */
export interface DecisionRequest {
  /** Raw Authorization header value, or a bare token. */
  authorization: string;
  /** "<METHOD> <path>" or "tool:<name>". */
  resource: string;
  /** Host the request was sent to, for rules that name one; several spellings must agree. */
  host?: RequestHost;
  /** Replaces the policy's scope; present-but-empty denies. */
  requiredScope?: string;
  /** Chooses a policy rule by name instead of matching the resource. */
  ruleName?: string;
}

export type Denial = "unauthenticated" | "forbidden";

/** A decision is data: a denial is a value with a reason, never an exception. */
export type Decision =
  | { allowed: true; reason: ReasonCode; identity?: Identity; requiredScope?: string }
  | { allowed: false; denial: Denial; reason: ReasonCode; identity?: Identity; requiredScope?: string };

export function allow(reason: ReasonCode, identity?: Identity, requiredScope?: string): Decision {
  return { allowed: true, reason, identity, requiredScope };
}

export function deny(denial: Denial, reason: ReasonCode, identity?: Identity, requiredScope?: string): Decision {
  return { allowed: false, denial, reason, identity, requiredScope };
}

/** What transports depend on: the engine itself, or a decorator around it. */
export interface Decider {
  decide(request: DecisionRequest): Promise<Decision>;
}
