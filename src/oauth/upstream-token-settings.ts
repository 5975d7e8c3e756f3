import { Type, type Static } from "@sinclair/typebox";
import { IDENTITY_PATTERN } from "../http/caller-identity-settings.js";
import { positiveInteger, section, wholeNumber } from "../settings-schema/schema-kit.js";
import type { UpstreamTokenVaultSettings } from "./upstream-token-vault.js";

const DEFAULTS = { refresh_skew_ms: 60_000, refresh_lease_ms: 30_000, refresh_wait_ms: 5000, refresh_poll_ms: 50 };

export const upstreamTokensSchema = section(
  {
    env: "PORTCULLIS_UPSTREAM_TOKENS",
    envFormat: "yaml",
    defaultText: "none: no upstream tokens are kept, and a rule with `upstream_token` stops the start",
    description:
      "the upstream token vault ([upstream tokens](upstream-tokens.md)): flows with `store_upstream_tokens` keep the upstream's tokens, and Envoy's Check puts the access token on requests of rules with `upstream_token`. Needs `tls.client_ca_file` and `encryption.keys`; the variable holds YAML or JSON",
  },
  {
    refresh_skew_ms: wholeNumber({ default: DEFAULTS.refresh_skew_ms, description: "refresh an access token this long (ms) before it expires" }),
    refresh_lease_ms: positiveInteger({
      default: DEFAULTS.refresh_lease_ms,
      description: "lifetime (ms) of a refresh lease: one replica refreshes an entry at a time",
    }),
    refresh_wait_ms: positiveInteger({
      default: DEFAULTS.refresh_wait_ms,
      description: "longest time (ms) a Check waits for another replica's refresh of an expired token",
    }),
    refresh_poll_ms: positiveInteger({ default: DEFAULTS.refresh_poll_ms, description: "interval (ms) between two looks while waiting" }),
  },
  {
    recipients: Type.Array(
      Type.String({
        pattern: IDENTITY_PATTERN,
        "x-message": 'must be a URI SAN such as "spiffe://example.org/ns/gw/sa/envoy", "dns:<name>" for a DNS SAN, or "*"',
      }),
      {
        minItems: 1,
        description:
          "client certificates (mTLS) a Check answer may carry an upstream token to, named as in caller-identity rules: a URI SAN, `dns:<name>`, or `*` for any the client CA signed",
        "x-message": "must be a non-empty list",
      },
    ),
  },
);

export interface UpstreamTokensConfig extends UpstreamTokenVaultSettings {
  /** Certificate names as caller-identity rules write them, DNS names lower-cased. */
  recipients: string[];
}

export function upstreamTokensConfig(file: Static<typeof upstreamTokensSchema> | undefined): UpstreamTokensConfig | undefined {
  if (file === undefined) return undefined;
  return {
    recipients: file.recipients.map((name) => (name.startsWith("dns:") ? name.toLowerCase() : name)),
    refreshSkewMs: file.refresh_skew_ms ?? DEFAULTS.refresh_skew_ms,
    refreshLeaseMs: file.refresh_lease_ms ?? DEFAULTS.refresh_lease_ms,
    refreshWaitMs: file.refresh_wait_ms ?? DEFAULTS.refresh_wait_ms,
    refreshPollMs: file.refresh_poll_ms ?? DEFAULTS.refresh_poll_ms,
  };
}
