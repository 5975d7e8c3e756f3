import { Type, type Static } from "@sinclair/typebox";
import { schemaChecker } from "../settings-schema/schema-check.js";
import { section } from "../settings-schema/schema-kit.js";

const ruleText = (description: string) => Type.String({ description, "x-message": "must be a string" });
const ruleSwitch = (description: string) => Type.Boolean({ description, "x-message": "must be true or false" });

const ruleSchema = section("A rule: exactly one matcher (resource, path, path_prefix, tool), and either public: true or a scope.", {
  name: ruleText("unique name (default `rule-<index>`), also for Envoy's per-route `rule` context extension"),
  resource: ruleText('one exact resource, "GET /health" or "tool:get_health"'),
  path: ruleText("one exact path, optionally with methods and host"),
  path_prefix: ruleText("a path and everything below it, on segment boundaries"),
  methods: Type.Array(Type.String(), { description: "HTTP methods (any case) a path rule is narrowed to", "x-message": "must be a list of strings" }),
  host: ruleText("host (case-insensitive, port ignored) a path rule is narrowed to"),
  tool: ruleText('a tool name, or "*" for every tool'),
  scope: ruleText("scope a credential needs"),
  public: ruleSwitch("no credential needed; takes no scope"),
  single_use: ruleSwitch("a credential with a jti may pass here once only"),
  when: ruleText("a CEL condition over `request`, `principal` and `claims`: the rule applies only where it is true (see [Policy](../README.md#conditions-when))"),
  upstream_token: ruleText("Envoy Check replaces the request's credential with the principal's upstream access token of this upstream id ([upstream tokens](upstream-tokens.md))"),
});

/**
 * A public rule with a scope reads two ways (public, or scoped); it is
 * refused rather than guessed.
 */
const publicTakesNoScope = {
  if: { properties: { public: { const: true } }, required: ["public"] },
  then: { properties: { scope: { not: {}, "x-message": "a public rule takes no scope: remove public or scope" } } },
};

export const policySchema = section(
  {
    env: "PORTCULLIS_POLICY",
    envFormat: "yaml",
    defaultText: "none: every resource `no_policy`",
    description: "route and tool rules, tried in order, and the default scope (see [Policy](../README.md#policy)); the variable holds YAML or JSON",
  },
  {
    rules: Type.Array({ ...ruleSchema, ...publicTakesNoScope }, { description: "rules, first match wins", "x-message": "must be a list" }),
    default_scope: ruleText("scope for resources no rule covers; without it they are denied (`no_policy`)"),
  },
);

/** The policy as written in the configuration file. */
export type PolicyConfig = Static<typeof policySchema>;
export type PolicyRuleConfig = Static<typeof ruleSchema>;

/**
 * Checks that a policy read from YAML or JSON has the documented shape.
 * A misspelt key is an error rather than ignored: a lost `methods` or `host`
 * would silently widen a rule.
 */
export function checkPolicyShape(raw: unknown): PolicyConfig {
  return schemaChecker(policySchema, "policy")(raw ?? {});
}
