import type { JWK } from "jose";
import { wholeNumber } from "../../config-values.js";
import { InvalidArgumentError } from "../../errors.js";
import { ASYMMETRIC_ALGORITHMS } from "./jwk-selection.js";

/** A trusted external issuer whose keys come from its JWKS. */
export interface ExternalIssuerConfig {
  issuer: string;
  /** Short name of the issuer in subjects, token ids and identity headers (`jwt:<alias>:<sub>`). */
  alias: string;
  /** Without it, found by OIDC discovery (RFC 8414 as fallback). */
  jwksUri?: string;
  /** Empty: `aud` is not checked. */
  audiences: string[];
  algorithms: string[];
  /** Claims holding scopes: a space-separated string or an array of strings. */
  scopeClaims: string[];
  subjectClaim: string;
  librariesClaim?: string;
  /** Always holds `iss` and `exp`, whatever the configuration adds. */
  requiredClaims: string[];
  /** Accepted `typ` header values (compared as media types); a token without `typ` is accepted. */
  tokenTypes: string[];
  leewayS: number;
  jwksCacheTtlS: number;
  /** After this long without a successful JWKS fetch, the issuer's tokens answer Unavailable. */
  jwksMaxStaleS: number;
  jwksMinRefreshIntervalS: number;
  jwksTimeoutMs: number;
  jwksMaxBytes: number;
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
  audiences: string[];
  scopeClaims: string[];
  tokenTypes: string[];
  maxLifetimeS: number;
  leewayS: number;
}

export interface JwtConfig {
  issuers: ExternalIssuerConfig[];
  teamTokens: TeamTokenConfig;
  requestIssuers: RequestIssuerConfig[];
}

/** The `jwt` section as written (snake_case); lists may come from JSON env vars. */
export interface JwtFileConfig {
  issuers?: unknown;
  team_tokens?: { issuer?: string; audience?: string; ttl_s?: number; leeway_s?: number };
  request_issuers?: unknown;
}

export const DEFAULT_ALGORITHMS = ["RS256", "PS256", "ES256", "EdDSA"];
const DEFAULT_SCOPE_CLAIMS = ["scope", "scp"];
export const DEFAULT_TOKEN_TYPES = ["JWT", "at+jwt", "application/at+jwt"];
const ALIAS = /^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$/;
const HMAC_ALGORITHMS = ["HS256", "HS384", "HS512"];
const ALWAYS_REQUIRED_CLAIMS = ["iss", "exp"];

export function parseJwtConfig(section: JwtFileConfig): JwtConfig {
  const issuers = listOf("jwt.issuers", section.issuers).map((entry, index) => externalIssuer(entry, `jwt.issuers[${index}]`));
  const requestIssuers = listOf("jwt.request_issuers", section.request_issuers).map((entry, index) =>
    requestIssuer(entry, `jwt.request_issuers[${index}]`),
  );
  const team = section.team_tokens ?? {};
  const teamTokens: TeamTokenConfig = {
    issuer: text("jwt.team_tokens.issuer", team.issuer) ?? "portcullis",
    audience: text("jwt.team_tokens.audience", team.audience) ?? "portcullis",
    ttlS: wholeNumber("jwt.team_tokens.ttl_s", team.ttl_s) ?? 365 * 24 * 3600,
    leewayS: wholeNumber("jwt.team_tokens.leeway_s", team.leeway_s, true) ?? 30,
  };
  const names = [...issuers.map((i) => i.issuer), ...requestIssuers.map((i) => i.issuer), teamTokens.issuer];
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  // `iss` picks the keys; one name with two key sources would reopen key confusion.
  if (repeated !== undefined) throw new InvalidArgumentError("jwt", `issuer "${repeated}" is configured twice`);
  const aliases = [...issuers, ...requestIssuers].map((i) => i.alias);
  const shared = aliases.find((alias, index) => aliases.indexOf(alias) !== index);
  // The alias is what tells two issuers' subjects apart downstream.
  if (shared !== undefined) throw new InvalidArgumentError("jwt", `two issuers have the alias "${shared}"; give each an explicit alias`);
  return { issuers, teamTokens, requestIssuers };
}

function externalIssuer(entry: Record<string, unknown>, field: string): ExternalIssuerConfig {
  const issuer = requiredText(`${field}.issuer`, entry.issuer);
  const jwksUri = text(`${field}.jwks_uri`, entry.jwks_uri);
  for (const [name, value] of [["jwks_uri", jwksUri], ["issuer", jwksUri === undefined ? issuer : undefined]] as const) {
    if (value !== undefined && !/^https?:\/\/[^/]/.test(value)) {
      throw new InvalidArgumentError(`${field}.${name}`, "must be an http(s) URL");
    }
  }
  const algorithms = strings(`${field}.algorithms`, entry.algorithms) ?? DEFAULT_ALGORITHMS;
  const unfit = algorithms.find((alg) => !ASYMMETRIC_ALGORITHMS.includes(alg));
  if (unfit !== undefined || algorithms.length === 0) {
    // `none` and HMAC would let a public key (or nothing) sign tokens.
    throw new InvalidArgumentError(`${field}.algorithms`, `"${unfit ?? ""}" cannot be used with a JWKS issuer`);
  }
  const jwksCacheTtlS = wholeNumber(`${field}.jwks_cache_ttl_s`, entry.jwks_cache_ttl_s) ?? 3600;
  const jwksMaxStaleS = wholeNumber(`${field}.jwks_max_stale_s`, entry.jwks_max_stale_s) ?? 4 * jwksCacheTtlS;
  if (jwksMaxStaleS < jwksCacheTtlS) throw new InvalidArgumentError(`${field}.jwks_max_stale_s`, "must be at least jwks_cache_ttl_s");
  return {
    issuer,
    alias: issuerAlias(field, entry, issuer),
    jwksUri,
    audiences: strings(`${field}.audiences`, entry.audiences) ?? [],
    algorithms,
    scopeClaims: strings(`${field}.scope_claims`, entry.scope_claims) ?? DEFAULT_SCOPE_CLAIMS,
    subjectClaim: text(`${field}.subject_claim`, entry.subject_claim) ?? "sub",
    librariesClaim: text(`${field}.libraries_claim`, entry.libraries_claim),
    // jose checks `exp` only when present: a token without one would never expire.
    requiredClaims: [...new Set([...ALWAYS_REQUIRED_CLAIMS, ...(strings(`${field}.required_claims`, entry.required_claims) ?? [])])],
    tokenTypes: strings(`${field}.token_types`, entry.token_types) ?? DEFAULT_TOKEN_TYPES,
    leewayS: wholeNumber(`${field}.leeway_s`, entry.leeway_s, true) ?? 30,
    jwksCacheTtlS,
    jwksMaxStaleS,
    jwksMinRefreshIntervalS: wholeNumber(`${field}.jwks_min_refresh_interval_s`, entry.jwks_min_refresh_interval_s, true) ?? 30,
    jwksTimeoutMs: wholeNumber(`${field}.jwks_timeout_ms`, entry.jwks_timeout_ms) ?? 5000,
    jwksMaxBytes: wholeNumber(`${field}.jwks_max_bytes`, entry.jwks_max_bytes) ?? 256 * 1024,
  };
}

function requestIssuer(entry: Record<string, unknown>, field: string): RequestIssuerConfig {
  const jwk = entry.jwk;
  if (typeof jwk !== "object" || jwk === null || Array.isArray(jwk) || typeof (jwk as JWK).kty !== "string") {
    throw new InvalidArgumentError(`${field}.jwk`, "must be a JWK object");
  }
  const key = jwk as JWK;
  if (key.kty !== "oct" && key.d !== undefined) {
    throw new InvalidArgumentError(`${field}.jwk`, "must be the public key; the private key stays with the issuer");
  }
  const fitting = key.kty === "oct" ? HMAC_ALGORITHMS : ASYMMETRIC_ALGORITHMS;
  const algorithms = strings(`${field}.algorithms`, entry.algorithms) ?? [key.alg ?? defaultAlgorithm(key)];
  const unfit = algorithms.find((alg) => !fitting.includes(alg));
  if (unfit !== undefined || algorithms.length === 0) {
    throw new InvalidArgumentError(`${field}.algorithms`, `"${unfit ?? ""}" does not fit a ${key.kty} key`);
  }
  const issuer = requiredText(`${field}.issuer`, entry.issuer);
  return {
    issuer,
    alias: issuerAlias(field, entry, issuer),
    jwk: key,
    algorithms,
    audiences: strings(`${field}.audiences`, entry.audiences) ?? [],
    scopeClaims: strings(`${field}.scope_claims`, entry.scope_claims) ?? DEFAULT_SCOPE_CLAIMS,
    tokenTypes: strings(`${field}.token_types`, entry.token_types) ?? DEFAULT_TOKEN_TYPES,
    maxLifetimeS: wholeNumber(`${field}.max_lifetime_s`, entry.max_lifetime_s) ?? 600,
    leewayS: wholeNumber(`${field}.leeway_s`, entry.leeway_s, true) ?? 30,
  };
}

/** The alias given, else the issuer URL's hostname, else the issuer itself when it fits. */
function issuerAlias(field: string, entry: Record<string, unknown>, issuer: string): string {
  const given = text(`${field}.alias`, entry.alias);
  if (given !== undefined) {
    if (!ALIAS.test(given)) throw new InvalidArgumentError(`${field}.alias`, "must be lower-case letters, digits, '.' and '-' (at most 63)");
    return given;
  }
  const fallback = hostnameOf(issuer) ?? issuer;
  if (!ALIAS.test(fallback)) throw new InvalidArgumentError(`${field}.alias`, `is required: "${issuer}" gives no usable default`);
  return fallback;
}

function hostnameOf(issuer: string): string | undefined {
  try {
    return new URL(issuer).hostname.toLowerCase() || undefined;
  } catch {
    return undefined;
  }
}

function defaultAlgorithm(key: JWK): string {
  if (key.kty === "oct") return "HS256";
  if (key.kty === "RSA") return "RS256";
  if (key.kty === "OKP") return "EdDSA";
  return ({ "P-384": "ES384", "P-521": "ES512" } as Record<string, string>)[String(key.crv)] ?? "ES256";
}

function listOf(field: string, value: unknown): Record<string, unknown>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new InvalidArgumentError(field, "must be a list");
  return value.map((entry, index) => {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new InvalidArgumentError(`${field}[${index}]`, "must be a mapping");
    }
    return entry as Record<string, unknown>;
  });
}

function text(field: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.trim() === "") throw new InvalidArgumentError(field, "must be a non-empty string");
  return value;
}

function requiredText(field: string, value: unknown): string {
  const result = text(field, value);
  if (result === undefined) throw new InvalidArgumentError(field, "is required");
  return result;
}

function strings(field: string, value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== "string" || item === "")) {
    throw new InvalidArgumentError(field, "must be a list of non-empty strings");
  }
  return value as string[];
}
