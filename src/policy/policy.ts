import { InvalidArgumentError } from "../errors.js";
import { compileCondition, type Condition } from "./condition.js";
import { checkPolicyShape, type PolicyConfig, type PolicyRuleConfig } from "./policy-schema.js";
import { readHost } from "./host.js";
import { readPath } from "./path.js";
import { parseResource, toolNameProblem, type Resource } from "./resource.js";

export type { PolicyConfig, PolicyRuleConfig };

/** What a matched rule asks of the request. */
export interface Requirement {
  ruleName: string;
  public: boolean;
  scope: string;
  singleUse: boolean;
  /** The rule's `when`: it applies only where this holds. */
  condition?: Condition;
  /** The upstream id whose vault token Envoy's Check sends upstream in place of the client's credential. */
  upstreamToken?: string;
}

/** A resource the policy will not decide on as asked. */
export interface PolicyRefusal {
  refusal: "host_required" | "bad_host";
}

type RuleMatch = "match" | "no_match" | PolicyRefusal["refusal"];

interface CompiledRule extends Requirement {
  match(resource: Resource): RuleMatch;
}

/** Route and tool rules, matched in the order they are written; first match wins. */
export class Policy {
  private readonly rules: CompiledRule[];
  private readonly byName: Map<string, CompiledRule>;
  private readonly defaultScope?: string;

  constructor(raw: PolicyConfig) {
    const config = checkPolicyShape(raw);
    this.rules = (config.rules ?? []).map(compileRule);
    this.byName = new Map();
    for (const rule of this.rules) {
      if (this.byName.has(rule.ruleName)) {
        throw new InvalidArgumentError("policy.rules", `rule name "${rule.ruleName}" is used twice`);
      }
      this.byName.set(rule.ruleName, rule);
    }
    if (config.default_scope !== undefined) {
      if (config.default_scope.trim() === "") throw new InvalidArgumentError("policy.default_scope", "must not be empty");
      this.defaultScope = config.default_scope;
    }
  }

  /**
   * The requirement for `resource`; undefined when nothing covers it. A rule
   * that names a host and would match but for a request that names no host
   * (`host_required`) or a malformed one (`bad_host`) refuses instead of
   * letting a later, weaker rule decide. Where no such rule would match, the
   * host is never consulted. `after`, a rule this policy returned, starts
   * the search at the rule following it.
   */
  requirementFor(resource: Resource, after?: Requirement): Requirement | PolicyRefusal | undefined {
    // A rule whose condition did not hold is passed over: the search goes on after it.
    const start = after === undefined ? 0 : this.rules.indexOf(after as CompiledRule) + 1;
    if (start === 0 && after !== undefined) return undefined;
    for (let index = start; index < this.rules.length; index++) {
      const rule = this.rules[index]!;
      const match = rule.match(resource);
      if (match === "match") return rule;
      if (match !== "no_match") return { refusal: match };
    }
    if (this.defaultScope === undefined) return undefined;
    return { ruleName: "default", public: false, scope: this.defaultScope, singleUse: false };
  }

  /** A rule chosen by name (e.g. from Envoy's per-route context extensions). */
  ruleNamed(name: string): Requirement | undefined {
    return this.byName.get(name);
  }
}

function compileRule(rule: PolicyRuleConfig, index: number): CompiledRule {
  const field = `policy.rules[${index}]`;
  const matchers = [rule.resource, rule.path, rule.path_prefix, rule.tool].filter((m) => m !== undefined);
  if (matchers.length !== 1) {
    throw new InvalidArgumentError(field, "needs exactly one of resource, path, path_prefix, tool");
  }
  if (rule.public !== true && (rule.scope === undefined || rule.scope.trim() === "")) {
    throw new InvalidArgumentError(`${field}.scope`, "a rule that is not public needs a non-empty scope");
  }
  const requirement: Requirement = {
    ruleName: rule.name ?? `rule-${index}`,
    public: rule.public === true,
    scope: rule.scope ?? "",
    singleUse: rule.single_use === true,
    ...upstreamTokenOf(rule, field),
  };
  const match = matcherFor(rule, field);
  if (rule.when === undefined) return { ...requirement, match };
  const condition = compileCondition(rule.when, `${field}.when`);
  if (requirement.public && condition.needsIdentity) {
    // A public rule is decided without a credential, so its condition cannot ask about one.
    throw new InvalidArgumentError(`${field}.when`, "a public rule's condition may read only request, not principal or claims");
  }
  return { ...requirement, condition, match };
}

function upstreamTokenOf(rule: PolicyRuleConfig, field: string): Pick<Requirement, "upstreamToken"> {
  if (rule.upstream_token === undefined) return {};
  // A public rule has no principal whose token could be sent.
  if (rule.public === true) throw new InvalidArgumentError(`${field}.upstream_token`, "a public rule has no principal to send an upstream token for");
  if (!/^[\x21-\x7e]{1,256}$/.test(rule.upstream_token)) {
    throw new InvalidArgumentError(`${field}.upstream_token`, "must be an upstream id: 1-256 printable characters without spaces");
  }
  return { upstreamToken: rule.upstream_token };
}

/** The upstream ids the rules ask tokens for. */
export function upstreamTokenRules(policy: PolicyConfig): string[] {
  return (checkPolicyShape(policy).rules ?? []).flatMap((rule) => (rule.upstream_token === undefined ? [] : [rule.upstream_token]));
}

function matcherFor(rule: PolicyRuleConfig, field: string): (resource: Resource) => RuleMatch {
  if (rule.resource !== undefined || rule.tool !== undefined) {
    // Silently ignoring these would make a rule wider than it reads.
    if (rule.methods !== undefined) throw new InvalidArgumentError(`${field}.methods`, "applies only to path and path_prefix rules");
    if (rule.host !== undefined) throw new InvalidArgumentError(`${field}.host`, "applies only to path and path_prefix rules");
  }
  if (rule.resource !== undefined) {
    const parsed = parseResource(rule.resource);
    if ("reason" in parsed) throw new InvalidArgumentError(`${field}.resource`, parsed.detail);
    const target = parsed.resource;
    return target.kind === "tool"
      ? (resource) => matchIf(resource.kind === "tool" && resource.name === target.name)
      : (resource) => matchIf(resource.kind === "http" && resource.method === target.method && samePath(resource.path, target.path));
  }
  if (rule.tool !== undefined) {
    const tool = rule.tool;
    const problem = tool === "*" ? undefined : toolNameProblem(tool);
    if (problem !== undefined) throw new InvalidArgumentError(`${field}.tool`, problem);
    return (resource) => matchIf(resource.kind === "tool" && (tool === "*" || resource.name === tool));
  }
  const methods = rule.methods?.map((method) => method.toUpperCase());
  if (methods !== undefined && (methods.length === 0 || methods.some((method) => !/^[A-Z]{1,20}$/.test(method)))) {
    throw new InvalidArgumentError(`${field}.methods`, "must list one or more HTTP methods");
  }
  const host = rule.host === undefined ? undefined : ruleHost(rule.host, `${field}.host`);
  const pathMatches = pathMatcher(rule, field);
  return (resource) => {
    if (resource.kind !== "http" || (methods !== undefined && !methods.includes(resource.method)) || !pathMatches(resource.path)) {
      return "no_match";
    }
    if (host === undefined) return "match";
    if (resource.host === undefined) return "host_required";
    if ("malformed" in resource.host) return "bad_host";
    return resource.host.name === host ? "match" : "no_match";
  };
}

/** A rule's host, canonical as request hosts are read. Ports are not matched, so a rule cannot name one. */
function ruleHost(text: string, field: string): string {
  const reading = readHost(text);
  if ("malformed" in reading) throw new InvalidArgumentError(field, reading.malformed);
  if (reading.port !== undefined) throw new InvalidArgumentError(field, "names a port, but rules match hosts on every port");
  return reading.name;
}

function matchIf(condition: boolean): RuleMatch {
  return condition ? "match" : "no_match";
}

/** Upstream routers treat "/admin" and "/admin/" alike, so an exact rule covers both. */
function samePath(requested: string, ruled: string): boolean {
  const bare = (path: string) => (path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path);
  return bare(requested) === bare(ruled);
}

function pathMatcher(rule: PolicyRuleConfig, field: string): (path: string) => boolean {
  if (rule.path !== undefined) {
    const exact = rulePath(rule.path, `${field}.path`);
    return (path) => samePath(path, exact);
  }
  const prefix = rulePath(rule.path_prefix ?? "", `${field}.path_prefix`);
  const withSlash = prefix.endsWith("/") ? prefix : `${prefix}/`;
  const bare = withSlash.slice(0, -1);
  return (path) => path === bare || path.startsWith(withSlash);
}

/**
 * A rule path, read as request paths are. One that no request path could
 * equal would be a rule that silently never matches.
 */
function rulePath(path: string, field: string): string {
  const reading = readPath(path);
  if ("problem" in reading) throw new InvalidArgumentError(field, reading.problem);
  return reading.path;
}
