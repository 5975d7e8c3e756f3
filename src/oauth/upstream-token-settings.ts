import { Type, type Static } from "@sinclair/typebox";
import { IDENTITY_PATTERN } from "../http/caller-identity-settings.js";
import { positiveInteger, section, wholeNumber } from "../settings-schema/schema-kit.js";
import { InvalidArgumentError } from "../errors.js";
import { checkedUpstreamUrl } from "../upstream/upstream-url.js";
import { checkedId, type UpstreamTokenVaultSettings } from "./upstream-token-vault.js";

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
    login_urls: Type.Record(Type.String(), Type.String(), {
      description:
        "where a user logs in to an upstream, by upstream id: an `upstream_login_required` denial for that upstream names it in its challenge (`login_uri`). An https URL without credentials or fragment; http only to a loopback address, and only with `oauth.dev_allow_private_upstreams`",
      "x-message": "must map upstream ids to URLs",
    }),
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
  /** Login URLs by upstream id, for the `upstream_login_required` challenge. */
  loginUrls: ReadonlyMap<string, string>;
}

/** `devAllowHttp`: `oauth.dev_allow_private_upstreams`, the one switch that permits plain http to loopback. */
export function upstreamTokensConfig(file: Static<typeof upstreamTokensSchema> | undefined, devAllowHttp: boolean): UpstreamTokensConfig | undefined {
  if (file === undefined) return undefined;
  return {
    recipients: file.recipients.map((name) => (name.startsWith("dns:") ? name.toLowerCase() : name)),
    loginUrls: loginUrlsOf(file.login_urls ?? {}, devAllowHttp),
    refreshSkewMs: file.refresh_skew_ms ?? DEFAULTS.refresh_skew_ms,
    refreshLeaseMs: file.refresh_lease_ms ?? DEFAULTS.refresh_lease_ms,
    refreshWaitMs: file.refresh_wait_ms ?? DEFAULTS.refresh_wait_ms,
    refreshPollMs: file.refresh_poll_ms ?? DEFAULTS.refresh_poll_ms,
  };
}

function loginUrlsOf(file: Record<string, string>, devAllowHttp: boolean): Map<string, string> {
  return new Map(
    Object.entries(file).map(([upstreamId, url]) => {
      checkedId("upstream_tokens.login_urls", upstreamId);
      const field = `upstream_tokens.login_urls.${upstreamId}`;
      // Control characters, quotes and spaces are refused with the URL's shape, so the value is safe in a quoted header parameter.
      checkedUpstreamUrl(field, url);
      if (!url.startsWith("https://") && !devAllowHttp) {
        throw new InvalidArgumentError(field, "must be an https URL (http only to a loopback address with oauth.dev_allow_private_upstreams)");
      }
      return [upstreamId, url];
    }),
  );
}
