import { Type, type Static } from "@sinclair/typebox";
import { annotations, isOn, positiveInteger, section, switchSetting, text, wholeNumber } from "../settings-schema/schema-kit.js";
import { InvalidArgumentError } from "../errors.js";
import { isUpstreamIssuer } from "../upstream/upstream-url.js";
import { comparableIssuer } from "./upstream-allow-list.js";

const DCR_DEFAULTS = { stale_after_s: 90 * 24 * 3600, lease_ttl_ms: 30_000, await_max_ms: 60_000, await_poll_ms: 100 };
const OAUTH_DEFAULTS = {
  state_ttl_ms: 600_000,
  http_timeout_ms: 5000,
  http_max_bytes: 1024 * 1024,
  discovery_cache_ms: 600_000,
  id_token_leeway_s: 30,
};

export const dcrSchema = section("Dynamic client registrations (DCR) kept for MCP proxies.", {
  stale_after_s: positiveInteger({
    env: "PORTCULLIS_DCR_STALE_AFTER_S",
    default: DCR_DEFAULTS.stale_after_s,
    description: "age (s) after which a DCR entry comes back marked stale",
  }),
  encryption_key: text({
    env: "PORTCULLIS_DCR_ENCRYPTION_KEY",
    defaultText: "none",
    description:
      "older spelling of a one-key `encryption` ring (32 bytes, base64), kept with the id derived from the key; cannot be set with `encryption`",
  }),
  lease_ttl_ms: positiveInteger({ env: "PORTCULLIS_DCR_LEASE_TTL_MS", default: DCR_DEFAULTS.lease_ttl_ms, description: "lifetime (ms) of a registration lease" }),
  await_max_ms: positiveInteger({
    env: "PORTCULLIS_DCR_AWAIT_MAX_MS",
    default: DCR_DEFAULTS.await_max_ms,
    description: "longest time (ms) a caller may wait for another's registration",
  }),
  await_poll_ms: positiveInteger({
    env: "PORTCULLIS_DCR_AWAIT_POLL_MS",
    default: DCR_DEFAULTS.await_poll_ms,
    description: "interval (ms) between two looks while waiting for a registration",
  }),
});

export const oauthSchema = section("Authorization-code flows against upstream authorization servers.", {
  state_ttl_ms: positiveInteger({ env: "PORTCULLIS_OAUTH_STATE_TTL_MS", default: OAUTH_DEFAULTS.state_ttl_ms, description: "lifetime (ms) of a pending flow" }),
  http_timeout_ms: positiveInteger({
    env: "PORTCULLIS_OAUTH_HTTP_TIMEOUT_MS",
    default: OAUTH_DEFAULTS.http_timeout_ms,
    description: "upper bound (ms) for one request to an upstream authorization server",
  }),
  http_max_bytes: positiveInteger({
    env: "PORTCULLIS_OAUTH_HTTP_MAX_BYTES",
    default: OAUTH_DEFAULTS.http_max_bytes,
    description: "largest response body accepted from an upstream authorization server",
  }),
  discovery_cache_ms: positiveInteger({
    env: "PORTCULLIS_OAUTH_DISCOVERY_CACHE_MS",
    default: OAUTH_DEFAULTS.discovery_cache_ms,
    description: "how long (ms) discovery documents are cached",
  }),
  id_token_leeway_s: wholeNumber({
    env: "PORTCULLIS_OAUTH_ID_TOKEN_LEEWAY_S",
    default: OAUTH_DEFAULTS.id_token_leeway_s,
    description: "clock skew (s) tolerated on an ID token's exp, nbf and iat",
  }),
  allowed_issuers: Type.Array(
    Type.String({ minLength: 1, "x-message": "must be a non-empty string" }),
    annotations({
      env: "PORTCULLIS_OAUTH_ALLOWED_ISSUERS",
      envFormat: "list",
      default: [],
      description:
        "upstream issuers (https URLs) non-root callers may start flows against, compared exactly after trimming one trailing slash; root may use any. The variable is comma-separated",
    }),
  ),
  dev_allow_private_upstreams: switchSetting({
    env: "PORTCULLIS_OAUTH_DEV_ALLOW_PRIVATE_UPSTREAMS",
    default: false,
    description:
      "development and tests only: allow http:// to loopback and upstreams at loopback, private or link-local addresses (logged as a warning at every start)",
  }),
});

export interface DcrConfig {
  /** Entries older than this come back marked stale. */
  staleAfterMs: number;
  leaseTtlMs: number;
  awaitMaxMs: number;
  awaitPollMs: number;
}

export interface OAuthConfig {
  stateTtlMs: number;
  /** Upper bound for one request to an upstream authorization server. */
  httpTimeoutMs: number;
  /** Largest response body accepted from an upstream authorization server. */
  httpMaxBytes: number;
  discoveryCacheMs: number;
  /** Clock skew tolerated on an ID token's exp, nbf and iat. */
  idTokenLeewayS: number;
  /** Upstream issuers non-root callers may start flows against. */
  allowedIssuers: string[];
  /** Development only: loopback, private and link-local upstreams, and plain http to loopback. */
  devAllowPrivateUpstreams: boolean;
}

export function dcrConfig(file: Static<typeof dcrSchema> = {}): DcrConfig {
  return {
    staleAfterMs: (file.stale_after_s ?? DCR_DEFAULTS.stale_after_s) * 1000,
    leaseTtlMs: file.lease_ttl_ms ?? DCR_DEFAULTS.lease_ttl_ms,
    awaitMaxMs: file.await_max_ms ?? DCR_DEFAULTS.await_max_ms,
    awaitPollMs: file.await_poll_ms ?? DCR_DEFAULTS.await_poll_ms,
  };
}

export function oauthConfig(file: Static<typeof oauthSchema> = {}): OAuthConfig {
  const devAllowPrivateUpstreams = isOn(file.dev_allow_private_upstreams, false);
  const allowedIssuers = (file.allowed_issuers ?? []).map((issuer, index) => {
    const field = `oauth.allowed_issuers[${index}]`;
    if (!isUpstreamIssuer(issuer)) throw new InvalidArgumentError(field, "must be an https issuer URL without credentials, query or fragment");
    if (!issuer.startsWith("https://") && !devAllowPrivateUpstreams) {
      throw new InvalidArgumentError(field, "must be an https issuer URL (http only with oauth.dev_allow_private_upstreams)");
    }
    return comparableIssuer(issuer);
  });
  return {
    stateTtlMs: file.state_ttl_ms ?? OAUTH_DEFAULTS.state_ttl_ms,
    httpTimeoutMs: file.http_timeout_ms ?? OAUTH_DEFAULTS.http_timeout_ms,
    httpMaxBytes: file.http_max_bytes ?? OAUTH_DEFAULTS.http_max_bytes,
    discoveryCacheMs: file.discovery_cache_ms ?? OAUTH_DEFAULTS.discovery_cache_ms,
    idTokenLeewayS: file.id_token_leeway_s ?? OAUTH_DEFAULTS.id_token_leeway_s,
    allowedIssuers,
    devAllowPrivateUpstreams,
  };
}

export function oauthWarnings(config: OAuthConfig): string[] {
  return config.devAllowPrivateUpstreams
    ? ["oauth.dev_allow_private_upstreams is on: OAuth flows may reach loopback and private addresses. Never use this in production."]
    : [];
}
