import type { Authenticator } from "../credentials/authenticator.js";
import type { Identity, JtiRef } from "../model/identity.js";
import type { Policy, PolicyRefusal, Requirement } from "../policy/policy.js";
import { parseResource, type Resource } from "../policy/resource.js";
import { grantsScope } from "../policy/scopes.js";
import {
  allow,
  allowCaller,
  deny,
  type CallerDecision,
  type CallerQuestion,
  type CallerRequirement,
  type Decision,
  type DecisionRequest,
  type Denied,
} from "./decision.js";
import { throwIfPast, untilDeadline } from "../deadline.js";
import { conditionVariables } from "./condition-variables.js";
import { isRoot } from "./root-credential.js";

/** Tells the first presentation of a credential instance from every later one, across replicas. */
export interface FirstUseRegistry {
  firstUse(ref: JtiRef, ruleName: string): Promise<boolean>;
}

/** The policy as the requirement phase asks it. */
export type RequirementSource = Pick<Policy, "requirementFor" | "ruleNamed">;

/**
 * The identity phase, run at most once per decision: a rule condition that
 * reads the principal runs it early, and the later phases reuse its answer
 * (a per-request token may be presented only once).
 */
type Identify = (requiredScope: string | undefined) => Promise<Identity | Denied>;

/** The identity phase's verifier: the Authenticator, or a stand-in. */
export type CredentialCheck = Pick<Authenticator, "authenticate">;

export interface DecisionEngineOptions {
  /** Development only: every decision that would deny allows instead. */
  allowAll?: boolean;
  /** Enforces single-use rules; without it they deny every credential. */
  singleUse?: FirstUseRegistry;
}

/**
 * Decides one request, or one caller of Portcullis's own APIs, in named
 * phases: requirement (with its rules' conditions) → identity → authorization.
 * Free of transport code;
 * throws only UnavailableError, when a dependency cannot answer, and
 * DeadlineExceededError, when the caller's deadline passed first, so a caller
 * can never mistake an outage for a decision.
 */
export class DecisionEngine {
  constructor(
    private readonly policy: RequirementSource,
    private readonly authenticator: CredentialCheck,
    private readonly options: DecisionEngineOptions = {},
  ) {}

  /**
   * Past the request's deadline (its `signal`), throws DeadlineExceededError
   * at once, whatever it was waiting for; the work under way is left to end
   * by itself and starts nothing more for this request.
   */
  async decide(request: DecisionRequest): Promise<Decision> {
    throwIfPast(request.signal);
    const decision = await untilDeadline(this.decideStrictly(request), request.signal);
    if (this.options.allowAll && !decision.allowed) return underRule(allow("dev_allow_all", decision.identity), decision.rule);
    return decision;
  }

  /**
   * Development's allow-all never applies here: it opens the protected
   * resources, not the administration of Portcullis itself.
   */
  async decideCaller(question: CallerQuestion): Promise<CallerDecision> {
    const requirement = question.requirement;
    const unmet = callerRequirementPhase(requirement);
    if (unmet !== undefined) return unmet;
    const identity = await this.identityPhase(question.authorization, requiredScopeOf(requirement));
    if ("allowed" in identity) return identity;
    return callerAuthorizationPhase(requirement, identity);
  }

  private async decideStrictly(request: DecisionRequest): Promise<Decision> {
    const parsed = parseResource(request.resource, request.host);
    if ("reason" in parsed) return deny("forbidden", parsed.reason);
    let verified: Identity | Denied | undefined;
    const identify: Identify = async (requiredScope) => (verified ??= await this.identityPhase(request.authorization, requiredScope, request.signal));
    const requirement = await this.requirementPhase(request, parsed.resource, identify);
    if ("allowed" in requirement) return requirement;
    if (requirement.public) return underRule(allow("public_resource"), requirement.ruleName);

    const identity = await identify(requirement.scope);
    if ("allowed" in identity) return underRule(identity, requirement.ruleName);
    return underRule(await this.authorizationPhase(parsed.resource, requirement, identity, request.signal), requirement.ruleName);
  }

  /** The credential's identity, or the denial that passes its rejection through. */
  private async identityPhase(authorization: string, requiredScope: string | undefined, signal?: AbortSignal): Promise<Identity | Denied> {
    const verification = await this.authenticator.authenticate(authorization, signal);
    if ("rejection" in verification) {
      const { reason, detail, identity } = verification.rejection;
      const denied = deny("unauthenticated", reason, identity, requiredScope);
      return detail === undefined ? denied : { ...denied, detail };
    }
    return verification.identity;
  }

  private async requirementPhase(request: DecisionRequest, resource: Resource, identify: Identify): Promise<Requirement | Decision> {
    const found = await this.applicableRule(request, resource, identify);
    if ("allowed" in found) return found;
    const rule = found.rule;
    const matched = rule !== undefined && "refusal" in rule ? undefined : rule;
    if (request.requiredScope !== undefined) {
      // An explicit scope replaces the rule's, and never makes a resource public.
      return {
        ruleName: matched?.ruleName ?? "required_scope",
        public: false,
        scope: request.requiredScope,
        singleUse: matched?.singleUse ?? false,
        ...(matched?.upstreamToken === undefined ? {} : { upstreamToken: matched.upstreamToken }),
      };
    }
    if (rule !== undefined && "refusal" in rule) return deny("forbidden", rule.refusal);
    return matched ?? deny("forbidden", "no_policy");
  }

  /**
   * The rule that applies: the named one, or the first that covers the
   * resource, each only where its condition holds. A condition that does not
   * hold passes the search on to the next rule (a named rule then leaves no
   * rule); one that cannot be answered denies under its rule, never passing
   * anything on.
   */
  private async applicableRule(
    request: DecisionRequest,
    resource: Resource,
    identify: Identify,
  ): Promise<{ rule: Requirement | PolicyRefusal | undefined } | Denied> {
    if (request.ruleName !== undefined) {
      const named = this.policy.ruleNamed(request.ruleName);
      if (named === undefined) return deny("forbidden", "unknown_rule");
      const holds = named.condition === undefined ? true : await this.conditionPhase(named, request, resource, identify);
      return typeof holds === "boolean" ? { rule: holds ? named : undefined } : holds;
    }
    let rule = this.policy.requirementFor(resource);
    while (rule !== undefined && !("refusal" in rule) && rule.condition !== undefined) {
      const holds = await this.conditionPhase(rule, request, resource, identify);
      if (holds === true) break;
      if (holds !== false) return holds;
      rule = this.policy.requirementFor(resource, rule);
    }
    return { rule };
  }

  /** Whether `rule`'s condition holds, or the denial when it cannot be answered. */
  private async conditionPhase(rule: Requirement, request: DecisionRequest, resource: Resource, identify: Identify): Promise<boolean | Denied> {
    const condition = rule.condition!;
    const scope = request.requiredScope ?? rule.scope;
    // A malformed host has no reading a condition could compare; the rule it may belong to refuses it.
    if (condition.readsHost && resource.host !== undefined && "malformed" in resource.host) {
      return underRule(deny("forbidden", "bad_host"), rule.ruleName);
    }
    let identity: Identity | undefined;
    if (condition.needsIdentity) {
      const verified = await identify(scope);
      if ("allowed" in verified) return underRule(verified, rule.ruleName);
      identity = verified;
    }
    const outcome = condition.evaluate(conditionVariables(request, resource, identity));
    if ("error" in outcome) return underRule(deny("forbidden", "condition_error", identity, scope), rule.ruleName);
    return outcome.value;
  }

  private async authorizationPhase(resource: Resource, requirement: Requirement, identity: Identity, signal?: AbortSignal): Promise<Decision> {
    const scope = requirement.scope;
    if (scope.trim() === "") return deny("forbidden", "no_required_scope", identity);
    if (!grantsScope(identity.scopes, scope)) return deny("forbidden", "insufficient_scope", identity, scope);
    if (resource.kind === "tool" && identity.allowedTools.length > 0 && !identity.allowedTools.includes(resource.name)) {
      return deny("forbidden", "tool_not_allowed", identity, scope);
    }
    if (requirement.singleUse) {
      // Only a credential with a jti can be told apart from its replay. Checked
      // last, so a request denied for another reason uses nothing up.
      if (identity.jti === undefined || this.options.singleUse === undefined) {
        return deny("forbidden", "single_use_requires_jti", identity, scope);
      }
      // A caller that stopped waiting gets no answer: its credential must not be used up for it.
      throwIfPast(signal);
      if (!(await this.options.singleUse.firstUse(identity.jti, requirement.ruleName))) {
        return deny("forbidden", "already_used", identity, scope);
      }
    }
    return requirement.upstreamToken === undefined
      ? allow("ok", identity, scope)
      : { allowed: true, reason: "ok", identity, requiredScope: scope, upstreamToken: requirement.upstreamToken };
  }
}

/** The decision, naming the rule it was made under (for the decision log). */
function underRule<D extends Decision>(decision: D, rule: string | undefined): D {
  return rule === undefined ? decision : { ...decision, rule };
}

/** A requirement no credential can meet is refused before any credential is looked at. */
function callerRequirementPhase(requirement: CallerRequirement): Denied | undefined {
  if (requirement.kind === "root_or_scope" && requirement.scope.trim() === "") return deny("forbidden", "no_required_scope");
  return undefined;
}

function requiredScopeOf(requirement: CallerRequirement): string | undefined {
  return requirement.kind === "root_or_scope" ? requirement.scope : undefined;
}

function callerAuthorizationPhase(requirement: CallerRequirement, identity: Identity): CallerDecision {
  switch (requirement.kind) {
    case "any_credential":
      return allowCaller(identity);
    case "root":
      return isRoot(identity) ? allowCaller(identity) : deny("forbidden", "root_required", identity);
    case "root_or_scope": {
      // Exact: a "*" that is not root (a legacy token file's) administers nothing.
      const granted = isRoot(identity) || identity.scopes.includes(requirement.scope);
      return granted
        ? allowCaller(identity, requirement.scope)
        : deny("forbidden", "insufficient_scope", identity, requirement.scope);
    }
  }
}
