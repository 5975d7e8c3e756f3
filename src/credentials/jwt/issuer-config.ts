import type { Static } from "@sinclair/typebox";
import type { JWK } from "jose";
import { InvalidArgumentError } from "../../errors.js";
import { ASYMMETRIC_ALGORITHMS } from "./jwk-selection.js";
import {
  ALIAS_PATTERN,
  ANY_AUDIENCE,
  DEFAULT_ALGORITHMS,
  DEFAULT_SCOPE_CLAIMS,
  DEFAULT_TOKEN_TYPES,
  ISSUER_DEFAULTS,
  MAX_STALE_TTLS,
  TEAM_TOKEN_DEFAULTS,
  type jwtSchema,
} from "./jwt-schema.js";

/** A trusted external issuer whose keys come from its JWKS. */
export interface ExternalIssuerConfig {
  issuer: string;
  /** Short name in identities; unique across issuers. */
  alias: string;
  /** Without it, found by OIDC discovery (RFC 8414 as fallback). */
  jwksUri?: string;
  /** Empty (configured as `any`): `aud` is not checked. */
  audiences: string[];
  /** Accepted `typ` values, compared case-insensitively. */
  tokenTypes: string[];
  algorithms: string[];
  /** Claims holding scopes: a space-separated string or an array of strings. */
  scopeClaims: string[];
  subjectClaim: string;
  librariesClaim?: string;
  /** When set, every token must carry a valid owner id in this claim: the owner its identity names. */
  ownerClaim?: string;
  /** Always holds `iss` and `exp`, whatever the configuration adds. */
  requiredClaims: string[];
  leewayS: number;
  jwksCacheTtlS: number;
  jwksMinRefreshIntervalS: number;
  jwksTimeoutMs: number;
  jwksMaxBytes: number;
  /** After this long without a successful refresh, the issuer answers UNAVAILABLE. */
  jwksMaxStaleS: number;
}

/** Team tokens: issued and verified by Portcullis itself. */
export interface TeamTokenConfig {
  issuer: string;
  audience: string;
  /** Lifetime of a minted team token unless the mint asks for another. */
  ttlS: number;
  leewayS: number;
}

/** An issuer of short-lived per-request tokens, trusted by one configured key. */
export interface RequestIssuerConfig {
  issuer: string;
  alias: string;
  /** Public key (RSA, EC, OKP) or shared secret (oct). */
  jwk: JWK;
  algorithms: string[];
  /** Empty (configured as `any`): `aud` is not checked. */
  audiences: string[];
  tokenTypes: string[];
  scopeClaims: string[];
  maxLifetimeS: number;
  leewayS: number;
}

export interface JwtConfig {
  issuers: ExternalIssuerConfig[];
  teamTokens: TeamTokenConfig;
  requestIssuers: RequestIssuerConfig[];
}

type JwtFile = Static<typeof jwtSchema>;
type ExternalIssuerFile = NonNullable<JwtFile["issuers"]>[number];
type RequestIssuerFile = NonNullable<JwtFile["request_issuers"]>[number];

const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"];
const ALWAYS_REQUIRED_CLAIMS = ["iss", "exp"];

export function parseJwtConfig(section: JwtFile = {}): JwtConfig {
  const issuers = (section.issuers ?? []).map((entry, index) => externalIssuer(entry, `jwt.issuers[${index}]`));
  const requestIssuers = (section.request_issuers ?? []).map((entry, index) => requestIssuer(entry, `jwt.request_issuers[${index}]`));
  const team = section.team_tokens ?? {};
  const teamTokens: TeamTokenConfig = {
    issuer: team.issuer ?? TEAM_TOKEN_DEFAULTS.issuer,
    audience: team.audience ?? TEAM_TOKEN_DEFAULTS.audience,
    ttlS: team.ttl_s ?? TEAM_TOKEN_DEFAULTS.ttl_s,
    leewayS: team.leeway_s ?? TEAM_TOKEN_DEFAULTS.leeway_s,
  };
  const names = [...issuers.map((i) => i.issuer), ...requestIssuers.map((i) => i.issuer), teamTokens.issuer];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  // `iss` picks the keys; one name with two key sources would reopen key confusion.
  if (repeated !== undefined) throw new InvalidArgumentError("jwt", `issuer "${repeated}" is configured twice`);
  const aliases = [...issuers, ...requestIssuers].map((i) => i.alias);
  const sharedAlias = aliases.find((alias, index) => aliases.indexOf(alias) !== index);
  if (sharedAlias !== undefined) {
    throw new InvalidArgumentError("jwt", `two issuers have the alias "${sharedAlias}": give each an explicit, distinct alias`);
  }
  return { issuers, teamTokens, requestIssuers };
}

/** Issuers whose `aud` goes unchecked, named at every start. */
export function jwtWarnings(config: JwtConfig): string[] {
  return [...config.issuers, ...config.requestIssuers]
    .filter((issuer) => issuer.audiences.length === 0)
    .map((issuer) => `JWT issuer "${issuer.issuer}" has audiences: any; tokens it issued for any other application are accepted`);
}

function externalIssuer(entry: ExternalIssuerFile, field: string): ExternalIssuerConfig {
  const { issuer, jwks_uri: jwksUri } = entry;
  for (const [name, value] of [["jwks_uri", jwksUri], ["issuer", jwksUri === undefined ? issuer : undefined]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) {
      throw new InvalidArgumentError(`${field}.${name}`, "must be an http(s) URL");
    }
  }
  const algorithms = entry.algorithms ?? DEFAULT_ALGORITHMS;
  const unfit = algorithms.find((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (unfit !== undefined) {
    // `none` and HMAC would let a public key (or nothing) sign tokens.
    throw new InvalidArgumentError(`${field}.algorithms`, `"${unfit}" cannot be used with a JWKS issuer`);
  }
  const jwksCacheTtlS = entry.jwks_cache_ttl_s ?? ISSUER_DEFAULTS.jwks_cache_ttl_s;
  const jwksMaxStaleS = entry.jwks_max_stale_s ?? MAX_STALE_TTLS * jwksCacheTtlS;
  if (jwksMaxStaleS < jwksCacheTtlS) {
    throw new InvalidArgumentError(`${field}.jwks_max_stale_s`, `must be at least jwks_cache_ttl_s (${jwksCacheTtlS})`);
  }
  return {
    issuer,
    alias: issuerAlias(entry, field),
    jwksUri,
    audiences: audienceList(entry.audiences),
    tokenTypes: entry.token_types ?? DEFAULT_TOKEN_TYPES,
    algorithms,
    scopeClaims: entry.scope_claims ?? DEFAULT_SCOPE_CLAIMS,
    subjectClaim: entry.subject_claim ?? "sub",
    librariesClaim: entry.libraries_claim,
    ...(entry.owner_claim === undefined ? {} : { ownerClaim: entry.owner_claim }),
    // jose checks `exp` only when present: a token without one would never expire.
    requiredClaims: [...new Set([...ALWAYS_REQUIRED_CLAIMS, ...(entry.required_claims ?? [])])],
    leewayS: entry.leeway_s ?? ISSUER_DEFAULTS.leeway_s,
    jwksCacheTtlS,
    jwksMinRefreshIntervalS: entry.jwks_min_refresh_interval_s ?? ISSUER_DEFAULTS.jwks_min_refresh_interval_s,
    jwksTimeoutMs: entry.jwks_timeout_ms ?? ISSUER_DEFAULTS.jwks_timeout_ms,
    jwksMaxBytes: entry.jwks_max_bytes ?? ISSUER_DEFAULTS.jwks_max_bytes,
    jwksMaxStaleS,
  };
}

function requestIssuer(entry: RequestIssuerFile, field: string): RequestIssuerConfig {
  const key = entry.jwk as JWK;
  if (key.kty !== "oct" && key.d !== undefined) {
    throw new InvalidArgumentError(`${field}.jwk`, "must be the public key; the private key stays with the issuer");
  }
  const fitting = key.kty === "oct" ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS;
  const algorithms = entry.algorithms ?? [key.alg ?? defaultAlgorithm(key)];
  const unfit = algorithms.find((alg) => !fitting.includes(alg));
  if (unfit !== undefined) {
    throw new InvalidArgumentError(`${field}.algorithms`, `"${unfit}" does not fit a ${key.kty} key`);
  }
  return {
    issuer: entry.issuer,
    alias: issuerAlias(entry, field),
    jwk: key,
    algorithms,
    audiences: audienceList(entry.audiences),
    tokenTypes: entry.token_types ?? DEFAULT_TOKEN_TYPES,
    scopeClaims: entry.scope_claims ?? DEFAULT_SCOPE_CLAIMS,
    maxLifetimeS: entry.max_lifetime_s ?? ISSUER_DEFAULTS.max_lifetime_s,
    leewayS: entry.leeway_s ?? ISSUER_DEFAULTS.leeway_s,
  };
}

function audienceList(audiences: string[] | typeof ANY_AUDIENCE): string[] {
  return audiences === ANY_AUDIENCE ? [] : audiences;
}

/** The configured alias, else the issuer URL's hostname, else the issuer itself when it fits. */
function issuerAlias(entry: { issuer: string; alias?: string }, field: string): string {
  if (entry.alias !== undefined) return entry.alias;
  const candidate = URL.canParse(entry.issuer) ? new URL(entry.issuer).hostname.toLowerCase() : entry.issuer;
  if (!ALIAS_PATTERN.test(candidate)) {
    throw new InvalidArgumentError(`${field}.alias`, "is required: the issuer gives no usable hostname");
  }
  return candidate;
}

function defaultAlgorithm(key: JWK): string {
  if (key.kty === "oct") return "HS256";
  if (key.kty === "RSA") return "RS256";
  if (key.kty === "OKP") return "EdDSA";
  return ({ "P-384": "ES384", "P-521": "ES512" } as Record<string, string>)[String(key.crv)] ?? "ES256";
}
