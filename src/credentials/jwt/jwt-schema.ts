import { Type } from "@sinclair/typebox";
import { annotations, positiveInteger, section, text, textList, wholeNumber } from "../../settings-schema/schema-kit.js";

export const ALIAS_PATTERN = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
export const DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"];
export const DEFAULT_SCOPE_CLAIMS = ["scope", "scp"];
export const DEFAULT_TOKEN_TYPES = ["JWT", "at+jwt", "application/at+jwt"];
export const ISSUER_DEFAULTS = {
  leeway_s: 30,
  jwks_cache_ttl_s: 3600,
  jwks_min_refresh_interval_s: 30,
  jwks_timeout_ms: 5000,
  jwks_max_bytes: 256 * 1024,
  max_lifetime_s: 600,
};
export const TEAM_TOKEN_DEFAULTS = { issuer: "portcullis", audience: "portcullis", ttl_s: 365 * 24 * 3600, leeway_s: 30 };
/** `jwks_max_stale_s` defaults to this many cache lifetimes. */
export const MAX_STALE_TTLS = 4;
export const ANY_AUDIENCE = "any";

const audiences = Type.Union(
  [Type.Array(Type.String({ minLength: 1, "x-message": "must be a non-empty string" }), { minItems: 1 }), Type.Literal(ANY_AUDIENCE)],
  annotations(
    { description: 'audiences a token must name one of (`aud`), or "any" to skip that check (warned at every start)' },
    'is required: a non-empty list of audiences, or "any" to accept tokens for any audience',
  ),
);

const alias = Type.String({
  pattern: ALIAS_PATTERN.source,
  ...annotations(
    {
      description: "short name of the issuer in identities (`jwt:<alias>:<sub>`); two issuers may not share one",
      defaultText: "the issuer URL's hostname",
    },
    "must be 1-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
  ),
});

const tokenTypes = textList({
  description: "accepted `typ` header values (any case); a token without `typ` is accepted, any other `typ` refused",
  default: DEFAULT_TOKEN_TYPES,
});

const scopeClaims = Type.Array(Type.String({ minLength: 1, "x-message": "must be a non-empty string" }), {
  ...annotations({ description: "claims holding scopes: a space-separated string or an array", default: DEFAULT_SCOPE_CLAIMS }, "must be a list of claim names"),
});

const externalIssuerSchema = section(
  "A trusted external issuer whose keys come from its JWKS.",
  {
    alias,
    jwks_uri: text({ description: "JWKS URL", defaultText: "OIDC discovery at `<issuer>/.well-known/openid-configuration`, then RFC 8414" }),
    algorithms: textList({ description: "accepted `alg` values (`none` and `HS*` are refused)", default: DEFAULT_ALGORITHMS }),
    scope_claims: scopeClaims,
    subject_claim: text({ description: "claim holding the subject", default: "sub" }),
    libraries_claim: text({ description: "claim holding the libraries", defaultText: "none (no libraries)" }),
    owner_claim: text({
      description: "claim holding the user's owner id (a token without a valid one is refused); a deactivated owner stops its JWTs too",
      defaultText: "none (JWTs have no owner)",
    }),
    required_claims: Type.Array(Type.String({ minLength: 1, "x-message": "must be a non-empty string" }), {
      ...annotations(
        { description: "claims a token must have, added to `iss` and `exp`, which every token needs", default: [] },
        "must be a list of claim names",
      ),
    }),
    leeway_s: wholeNumber({ description: "clock skew (s) tolerated on exp, nbf and iat", default: ISSUER_DEFAULTS.leeway_s }),
    jwks_cache_ttl_s: positiveInteger({ description: "how long (s) a fetched key set is fresh", default: ISSUER_DEFAULTS.jwks_cache_ttl_s }),
    jwks_min_refresh_interval_s: wholeNumber({
      description: "least time (s) between two fetches",
      default: ISSUER_DEFAULTS.jwks_min_refresh_interval_s,
    }),
    jwks_timeout_ms: positiveInteger({ description: "timeout (ms) of one JWKS fetch", default: ISSUER_DEFAULTS.jwks_timeout_ms }),
    jwks_max_bytes: positiveInteger({ description: "largest JWKS response accepted", default: ISSUER_DEFAULTS.jwks_max_bytes }),
    jwks_max_stale_s: positiveInteger({
      description: "after this long (s) without a successful JWKS refresh the issuer answers UNAVAILABLE; at least jwks_cache_ttl_s",
      defaultText: `${MAX_STALE_TTLS} × jwks_cache_ttl_s`,
    }),
    token_types: tokenTypes,
  },
  { issuer: text({ description: "`iss` of the issuer's tokens; an http(s) URL unless jwks_uri is given" }), audiences },
);

/** JWK members (RFC 7517, 7518, 8037); private ones are refused where a public key belongs. */
const jwkText = Type.String();
const jwkSchema = section(
  "A JSON Web Key: the issuer's public key, or a shared secret (`kty: oct`).",
  {
    use: jwkText,
    key_ops: Type.Array(Type.String()),
    alg: jwkText,
    kid: jwkText,
    x5u: jwkText,
    x5c: Type.Array(Type.String()),
    x5t: jwkText,
    "x5t#S256": jwkText,
    crv: jwkText,
    x: jwkText,
    y: jwkText,
    n: jwkText,
    e: jwkText,
    k: jwkText,
    d: jwkText,
    p: jwkText,
    q: jwkText,
    dp: jwkText,
    dq: jwkText,
    qi: jwkText,
    oth: Type.Array(Type.Unknown()),
    ext: Type.Boolean(),
  },
  { kty: Type.String({ minLength: 1, "x-message": "must be a key type" }) },
);

const requestIssuerSchema = section(
  "An issuer of short-lived per-request tokens, trusted by one configured key.",
  {
    alias,
    algorithms: textList({ description: "accepted `alg` values, fitting the key", defaultText: "from the key" }),
    scope_claims: scopeClaims,
    max_lifetime_s: positiveInteger({ description: "longest lifetime (s) a token may have", default: ISSUER_DEFAULTS.max_lifetime_s }),
    leeway_s: wholeNumber({ description: "clock skew (s) tolerated on exp, nbf and iat", default: ISSUER_DEFAULTS.leeway_s }),
    token_types: tokenTypes,
  },
  { issuer: text({ description: "`iss` of the issuer's tokens" }), jwk: jwkSchema, audiences },
);

export const jwtSchema = section("JWT credentials (see docs/jwt-credentials.md).", {
  issuers: Type.Array(
    externalIssuerSchema,
    annotations({ env: "PORTCULLIS_JWT_ISSUERS", envFormat: "json", default: [], description: "external OIDC issuers (the variable holds a JSON list)" }),
  ),
  request_issuers: Type.Array(
    requestIssuerSchema,
    annotations({
      env: "PORTCULLIS_JWT_REQUEST_ISSUERS",
      envFormat: "json",
      default: [],
      description: "issuers of per-request tokens (the variable holds a JSON list)",
    }),
  ),
  team_tokens: section("Team tokens, issued and verified by Portcullis itself.", {
    issuer: text({ env: "PORTCULLIS_TEAM_TOKEN_ISSUER", default: TEAM_TOKEN_DEFAULTS.issuer, description: "`iss` of team tokens" }),
    audience: text({ env: "PORTCULLIS_TEAM_TOKEN_AUDIENCE", default: TEAM_TOKEN_DEFAULTS.audience, description: "`aud` of team tokens" }),
    ttl_s: positiveInteger({
      env: "PORTCULLIS_TEAM_TOKEN_TTL_S",
      default: TEAM_TOKEN_DEFAULTS.ttl_s,
      description: "lifetime (s) of a team token when MintToken gives none",
    }),
    leeway_s: wholeNumber({ env: "PORTCULLIS_TEAM_TOKEN_LEEWAY_S", default: TEAM_TOKEN_DEFAULTS.leeway_s, description: "clock skew (s) tolerated" }),
  }),
});
