import { Type, type Static } from "@sinclair/typebox";
import { section, textList } from "../settings-schema/schema-kit.js";

/** `*`, `dns:<name>`, or an absolute URI such as a SPIFFE ID. */
export const IDENTITY_PATTERN = "^(\\*|dns:[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?|[A-Za-z][A-Za-z0-9+.-]*://\\S+)$";

const ruleSchema = section(
  "Which client certificates may call which services.",
  {},
  {
    services: textList({ description: "full gRPC service names (`portcullis.v1.TokenAdminService`, `envoy.service.auth.v3.Authorization`)" }),
    identities: Type.Array(
      Type.String({
        pattern: IDENTITY_PATTERN,
        "x-message": 'must be a URI SAN such as "spiffe://example.org/ns/gw/sa/envoy", "dns:<name>" for a DNS SAN, or "*"',
      }),
      {
        minItems: 1,
        description:
          'certificate names that may call them: a URI SAN exactly as written (a SPIFFE ID), `dns:<name>` for a DNS SAN (case-insensitive), `*` for any certificate the client CA signed',
        "x-message": "must be a non-empty list",
      },
    ),
  },
);

export const callerIdentitySchema = section(
  {
    env: "PORTCULLIS_CALLER_IDENTITY",
    envFormat: "yaml",
    defaultText: "none: any client certificate may call any service",
    description:
      "with mTLS, which client certificates may call which RPC service, in addition to the bearer each call needs; a service no rule names is refused to every certificate, except `grpc.health.v1.Health` and reflection (see [caller identity](tls.md#caller-identity)); the variable holds YAML or JSON. Needs `tls.client_ca_file`",
  },
  {},
  { rules: Type.Array(ruleSchema, { minItems: 1, description: "every rule that names a service adds its identities", "x-message": "must be a non-empty list" }) },
);

/** One rule: these certificate names may call these services. */
export interface CallerIdentityRule {
  readonly services: readonly string[];
  /** As configured, DNS names lower-cased. */
  readonly identities: readonly string[];
}

export function callerIdentityRules(file: Static<typeof callerIdentitySchema> | undefined): CallerIdentityRule[] | undefined {
  return file?.rules.map((rule) => ({
    services: rule.services,
    identities: rule.identities.map((identity) => (identity.startsWith("dns:") ? identity.toLowerCase() : identity)),
  }));
}
