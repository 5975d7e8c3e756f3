import type { Identity } from "../model/identity.js";
import type { ReasonCode } from "../model/reason-codes.js";
import type { RequestHost } from "../policy/resource.js";
import type { TraceHeaders } from "../tracing/tracing.js";

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
  /**
   * Fires when the caller's deadline passes or the caller goes away: the
   * engine then stops waiting and throws DeadlineExceededError, and starts
   * no further work (key fetch, single-use record) for this request.
   */
  signal?: AbortSignal;
  /** The checked request's headers by lower-case name (Envoy Check), for rule conditions. */
  headers?: ReadonlyMap<string, string>;
  /** The address the checked request came from (Envoy Check), for rule conditions. */
  sourceAddress?: string;
}

export type Denial = "unauthenticated" | "forbidden";

/** `detail` narrows the reason for the decision log (a fixed phrase of a verifier's); the wire carries the reason alone. */
export type Denied = {
  allowed: false;
  denial: Denial;
  reason: ReasonCode;
  detail?: string;
  identity?: Identity;
  requiredScope?: string;
  rule?: string;
  /** `upstream_login_required`: the upstream id without a stored token, whose login URL the 401 challenge names. */
  upstreamToken?: string;
};

/**
 * A decision is data: a denial is a value with a reason, never an exception.
 * `rule` names the policy rule the request was decided under (`default` for
 * the default scope, `required_scope` for an explicit one); absent when the
 * decision came before any rule was found.
 */
export type Decision =
  | {
      allowed: true;
      reason: ReasonCode;
      identity?: Identity;
      requiredScope?: string;
      rule?: string;
      /** The rule asks Envoy's Check to send the principal's upstream token of this upstream id (docs/upstream-tokens.md). */
      upstreamToken?: string;
    }
  | Denied;

/** The answer to a caller question: an allowed caller is always a verified one. */
export type CallerDecision = { allowed: true; reason: ReasonCode; identity: Identity; requiredScope?: string } | Denied;

export function allow(reason: ReasonCode, identity?: Identity, requiredScope?: string, rule?: string): Decision {
  return { allowed: true, reason, identity, requiredScope, rule };
}

export function allowCaller(identity: Identity, requiredScope?: string): CallerDecision {
  return { allowed: true, reason: "ok", identity, requiredScope };
}

export function deny(denial: Denial, reason: ReasonCode, identity?: Identity, requiredScope?: string, rule?: string): Denied {
  return { allowed: false, denial, reason, identity, requiredScope, rule };
}

/**
 * What a caller of one of Portcullis's own APIs must be, rather than what a
 * request may reach. A further kind (a certificate identity) joins this union.
 */
export type CallerRequirement =
  /** Any verified credential (ResolveLibraries). */
  | { kind: "any_credential" }
  /** A root credential; `purpose` names what needs it in the refusal. */
  | { kind: "root"; purpose: string }
  /** A root credential, or one granted exactly `scope`: "*" of another source does not count. */
  | { kind: "root_or_scope"; scope: string };

/** The second question every API asks the engine: may this caller make this call. */
export interface CallerQuestion {
  /** Raw Authorization value of the caller. */
  authorization: string;
  requirement: CallerRequirement;
}

/** What transports depend on: the engine itself, or a decorator around it. */
export interface Decider {
  /**
   * `trace` is the call's headers a trace parent may be read from; the
   * engine ignores it, a tracing decorator reads it when tracing is on.
   */
  decide(request: DecisionRequest, trace?: TraceHeaders): Promise<Decision>;
  decideCaller(question: CallerQuestion): Promise<CallerDecision>;
}

export type CallerDecider = Pick<Decider, "decideCaller">;
