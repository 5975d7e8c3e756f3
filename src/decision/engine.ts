import type { Authenticator } from "../credentials/authenticator.js";
import type { Identity, JtiRef } from "../model/identity.js";
import type { Policy, Requirement } from "../policy/policy.js";
import { parseResource, type Resource } from "../policy/resource.js";
import { grantsScope } from "../policy/scopes.js";
import { allow, deny, type Decision, type DecisionRequest } from "./decision.js";

/** Tells the first presentation of a credential instance from every later one, across replicas. */
export interface FirstUseRegistry {
  firstUse(ref: JtiRef, ruleName: string): Promise<boolean>;
}

export interface DecisionEngineOptions {
  /** Development only: every decision that would deny allows instead. */
  allowAll?: boolean;
  /** Enforces single-use rules; without it they deny every credential. */
  singleUse?: FirstUseRegistry;
}

/**
 * Decides one request in named phases: requirement (policy) → identity →
 * authorization. Free of transport code; throws only UnavailableError, when
 * a dependency cannot answer, so a caller can never mistake an outage for
 * a decision.
 */
export class DecisionEngine {
  constructor(
    private readonly policy: Policy,
    private readonly authenticator: Authenticator,
    private readonly options: DecisionEngineOptions = {},
  ) {}

  async decide(request: DecisionRequest): Promise<Decision> {
    const decision = await this.decideStrictly(request);
    if (this.options.allowAll && !decision.allowed) return allow("dev_allow_all", decision.identity);
    return decision;
  }

  private async decideStrictly(request: DecisionRequest): Promise<Decision> {
    const parsed = parseResource(request.resource, request.host);
    if ("reason" in parsed) return deny("forbidden", parsed.reason);
    const requirement = this.requirementPhase(request, parsed.resource);
    if ("allowed" in requirement) return requirement;
    if (requirement.public) return allow("public_resource");

    const verification = await this.authenticator.authenticate(request.authorization);
    if ("rejection" in verification) {
      return deny("unauthenticated", verification.rejection.reason, undefined, requirement.scope);
    }
    return this.authorizationPhase(parsed.resource, requirement, verification.identity);
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
      return { ruleName: matched?.ruleName ?? "required_scope", public: false, scope: request.requiredScope, singleUse: matched?.singleUse ?? false };
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
    return allow("ok", identity, scope);
  }
}
