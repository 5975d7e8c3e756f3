import type { Authenticator } from "../credentials/authenticator.js";
import type { Identity, JtiRef } from "../model/identity.js";
import type { Policy, Requirement } from "../policy/policy.js";
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
import { isRoot } from "./root-credential.js";

/** Tells the first presentation of a credential instance from every later one, across replicas. */
export interface FirstUseRegistry {
  firstUse(ref: JtiRef, ruleName: string): Promise<boolean>;
}

/** The policy as the requirement phase asks it. */
export type RequirementSource = Pick<Policy, "requirementFor" | "ruleNamed">;

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
 * phases: requirement → identity → authorization. Free of transport code;
 * throws only UnavailableError, when a dependency cannot answer, so a caller
 * can never mistake an outage for a decision.
 */
export class DecisionEngine {
  constructor(
    private readonly policy: RequirementSource,
    private readonly authenticator: CredentialCheck,
    private readonly options: DecisionEngineOptions = {},
  ) {}

  async decide(request: DecisionRequest): Promise<Decision> {
    const decision = await this.decideStrictly(request);
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
    const requirement = this.requirementPhase(request, parsed.resource);
    if ("allowed" in requirement) return requirement;
    if (requirement.public) return underRule(allow("public_resource"), requirement.ruleName);

    const identity = await this.identityPhase(request.authorization, requirement.scope);
    if ("allowed" in identity) return underRule(identity, requirement.ruleName);
    return underRule(await this.authorizationPhase(parsed.resource, requirement, identity), requirement.ruleName);
  }

  /** The credential's identity, or the denial that passes its rejection through. */
  private async identityPhase(authorization: string, requiredScope: string | undefined): Promise<Identity | Denied> {
    const verification = await this.authenticator.authenticate(authorization);
    if ("rejection" in verification) return deny("unauthenticated", verification.rejection.reason, undefined, requiredScope);
    return verification.identity;
  }

  private requirementPhase(request: DecisionRequest, resource: Resource): Requirement | Decision {
    const rule =
      request.ruleName === undefined
        ? this.policy.requirementFor(resource)
        : this.policy.ruleNamed(request.ruleName);
    if (request.ruleName !== undefined && rule === undefined) return deny("forbidden", "unknown_rule");
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

  private async authorizationPhase(resource: Resource, requirement: Requirement, identity: Identity): Promise<Decision> {
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
