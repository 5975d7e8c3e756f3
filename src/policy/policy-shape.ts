import { InvalidArgumentError } from "../errors.js";
import type { PolicyConfig } from "./policy.js";

const POLICY_KEYS = ["rules", "default_scope"];
const RULE_STRING_KEYS = ["name", "resource", "path", "path_prefix", "host", "tool", "scope"];
const RULE_BOOLEAN_KEYS = ["public", "single_use"];
const RULE_LIST_KEYS = ["methods"];
const RULE_KEYS = [...RULE_STRING_KEYS, ...RULE_BOOLEAN_KEYS, ...RULE_LIST_KEYS];

type Mapping = Record<string, unknown>;

/**
 * Checks that a policy read from YAML or JSON has the documented shape.
 * A misspelt key is an error rather than ignored: a lost `methods` or `host`
 * would silently widen a rule.
 */
export function checkPolicyShape(raw: unknown): PolicyConfig {
  if (raw === undefined || raw === null) return {};
  const policy = mapping(raw, "policy");
  onlyKeys(policy, POLICY_KEYS, "policy");
  if (policy.default_scope !== undefined) ofType(policy.default_scope, "string", "policy.default_scope");
  if (policy.rules !== undefined) {
    if (!Array.isArray(policy.rules)) throw new InvalidArgumentError("policy.rules", "must be a list");
    policy.rules.forEach((rule, index) => checkRule(rule, `policy.rules[${index}]`));
  }
  return policy as PolicyConfig;
}

function checkRule(raw: unknown, field: string): void {
  const rule = mapping(raw, field);
  onlyKeys(rule, RULE_KEYS, field);
  for (const key of RULE_STRING_KEYS) if (rule[key] !== undefined) ofType(rule[key], "string", `${field}.${key}`);
  for (const key of RULE_BOOLEAN_KEYS) if (rule[key] !== undefined) ofType(rule[key], "boolean", `${field}.${key}`);
  for (const key of RULE_LIST_KEYS) {
    const list = rule[key];
    if (list !== undefined && (!Array.isArray(list) || list.some((item) => typeof item !== "string"))) {
      throw new InvalidArgumentError(`${field}.${key}`, "must be a list of strings");
    }
  }
}

function mapping(raw: unknown, field: string): Mapping {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidArgumentError(field, "must be a mapping");
  return raw as Mapping;
}

function onlyKeys(object: Mapping, allowed: readonly string[], field: string): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(field, `unknown key ${unknown.map((key) => `"${key}"`).join(", ")} (expected ${allowed.join(", ")})`);
  }
}

function ofType(value: unknown, type: "string" | "boolean", field: string): void {
  if (typeof value !== type) throw new InvalidArgumentError(field, `must be a ${type}`);
}
