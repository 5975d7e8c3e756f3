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

/** The identity phase's answer, once a rule condition that reads the principal asked for it. */
type Verified = Identity | Denied;

/** The rule a request is decided under, with the identity phase's answer when a condition already asked for it. */
interface RuleSearch {
  rule: Requirement | PolicyRefusal | undefined;
  verified?: Verified;
}

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
    if (this.options.allowAll && !decision.allowed) return allow("dev_allow_all", decision.identity, undefined, decision.rule);
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

  /**
   * The identity phase runs at most once per decision: a rule condition
   * that reads the principal runs it early, and the later phases reuse its
   * answer (a per-request token may be presented only once).
   */
  private async decideStrictly(request: DecisionRequest): Promise<Decision> {
    const parsed = parseResource(request.resource, request.host);
    if ("reason" in parsed) return deny("forbidden", parsed.reason);
    const resource = parsed.resource;
    const candidate = request.ruleName === undefined ? this.policy.requirementFor(resource) : this.policy.ruleNamed(request.ruleName);
    if (candidate === undefined && request.ruleName !== undefined) return deny("forbidden", "unknown_rule");
    const search = conditional(candidate) ? await this.applicableRule(request, resource, candidate) : { rule: candidate };
    if ("allowed" in search) return search;
    const requirement = requirementPhase(request, search.rule);
    if ("allowed" in requirement) return requirement;
    if (requirement.public) return allow("public_resource", undefined, undefined, requirement.ruleName);

    const identity = search.verified ?? (await this.identityPhase(request.authorization, requirement.scope, request.signal));
    if ("allowed" in identity) return underRule(identity, requirement.ruleName);
    return this.authorizationPhase(resource, requirement, identity, request.signal);
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

  /**
   * The rule that applies, searched from `first`, a rule with a condition:
   * the named one, or the first that covers the resource, each only where
   * its condition holds. A condition that does not hold passes the search on
   * to the next rule (a named rule then leaves no rule); one that cannot be
   * answered denies under its rule, never passing anything on.
   */
  private async applicableRule(request: DecisionRequest, resource: Resource, first: Requirement): Promise<RuleSearch | Denied> {
    let verified: Verified | undefined;
    let rule: Requirement | PolicyRefusal | undefined = first;
    while (conditional(rule)) {
      const condition = await this.conditionPhase(rule, request, resource, verified);
      verified = condition.verified;
      if (condition.holds === true) break;
      if (condition.holds !== false) return condition.holds;
      rule = request.ruleName === undefined ? this.policy.requirementFor(resource, rule) : undefined;
    }
    return verified === undefined ? { rule } : { rule, verified };
  }

  /**
   * Whether `rule`'s condition holds, or the denial when it cannot be
   * answered, with the identity phase's answer (`verified`, or the one
   * this condition asked for).
   */
  private async conditionPhase(
    rule: Requirement,
    request: DecisionRequest,
    resource: Resource,
    verified: Verified | undefined,
  ): Promise<{ holds: boolean | Denied; verified?: Verified }> {
    const condition = rule.condition!;
    const scope = request.requiredScope ?? rule.scope;
    // A malformed host has no reading a condition could compare; the rule it may belong to refuses it.
    if (condition.readsHost && resource.host !== undefined && "malformed" in resource.host) {
      return { holds: deny("forbidden", "bad_host", undefined, undefined, rule.ruleName), verified };
    }
    let identity: Identity | undefined;
    if (condition.needsIdentity) {
      verified ??= await this.identityPhase(request.authorization, scope, request.signal);
      if ("allowed" in verified) return { holds: underRule(verified, rule.ruleName), verified };
      identity = verified;
    }
    const outcome = condition.evaluate(conditionVariables(request, resource, identity));
    if ("error" in outcome) return { holds: deny("forbidden", "condition_error", identity, scope, rule.ruleName), verified };
    return { holds: outcome.value, verified };
  }

  /** Synchronous unless the rule is single-use, which asks the registry. */
  private authorizationPhase(resource: Resource, requirement: Requirement, identity: Identity, signal?: AbortSignal): Decision | Promise<Decision> {
    const { scope, ruleName } = requirement;
    if (scope.trim() === "") return deny("forbidden", "no_required_scope", identity, undefined, ruleName);
    if (!grantsScope(identity.scopes, scope)) return deny("forbidden", "insufficient_scope", identity, scope, ruleName);
    if (resource.kind === "tool" && identity.allowedTools.length > 0 && !identity.allowedTools.includes(resource.name)) {
      return deny("forbidden", "tool_not_allowed", identity, scope, ruleName);
    }
    return requirement.singleUse ? this.singleUsePhase(requirement, identity, signal) : granted(requirement, identity);
  }

  /**
   * Only a credential with a jti can be told apart from its replay. Run
   * last, so a request denied for another reason uses nothing up.
   */
  private async singleUsePhase(requirement: Requirement, identity: Identity, signal?: AbortSignal): Promise<Decision> {
    const { scope, ruleName } = requirement;
    if (identity.jti === undefined || this.options.singleUse === undefined) {
      return deny("forbidden", "single_use_requires_jti", identity, scope, ruleName);
    }
    // A caller that stopped waiting gets no answer: its credential must not be used up for it.
    throwIfPast(signal);
    if (!(await this.options.singleUse.firstUse(identity.jti, ruleName))) return deny("forbidden", "already_used", identity, scope, ruleName);
    return granted(requirement, identity);
  }
}

/** A rule whose condition must be asked before it applies. */
function conditional(rule: Requirement | PolicyRefusal | undefined): rule is Requirement & { condition: object } {
  return rule !== undefined && !("refusal" in rule) && rule.condition !== undefined;
}

/** What the applicable rule (or an explicit scope) requires, or the denial when nothing can. */
function requirementPhase(request: DecisionRequest, rule: Requirement | PolicyRefusal | undefined): Requirement | Denied {
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

function granted(requirement: Requirement, identity: Identity): Decision {
  const { scope, ruleName, upstreamToken } = requirement;
  return upstreamToken === undefined
    ? allow("ok", identity, scope, ruleName)
    : { allowed: true, reason: "ok", identity, requiredScope: scope, rule: ruleName, upstreamToken };
}

/** The identity phase's denial, naming the rule it ended (for the decision log): a copy, as that denial is shared by the phases that asked. */
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
