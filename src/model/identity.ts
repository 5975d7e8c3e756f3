import type { TokenSource } from "./token.js";

export type CredentialType = "opaque" | "jwt" | "team_token" | "request_token";

/** Who a verified credential speaks for, and what it may reach. */
export interface Identity {
  subject: string;
  tokenId: string;
  credentialType: CredentialType;
  name: string;
  scopes: readonly string[];
  libraries: readonly string[];
  /** Empty means every tool its scopes allow. */
  allowedTools: readonly string[];
  /** Alias of the external issuer that vouched for the subject (JWTs, per-request tokens). */
  issuerAlias?: string;
  /** Where an opaque token came from; decides who may administer tokens. */
  source?: TokenSource;
  /** The user the credential belongs to (tokens and teams); a deactivated owner stops everything it owns. */
  owner?: string;
  /** Present for credentials that carry a `jti`: what single-use and replay checks key on. */
  jti?: JtiRef;
  /** The verified JWT's claims (external JWTs, team tokens, per-request tokens), for rule conditions; never logged. */
  claims?: Readonly<Record<string, unknown>>;
}

/**
 * A subject or token id an external issuer chose, as Portcullis hands it on:
 * `jwt:<alias>:<value>`. An IdP's `sub: "team:…"` or `jti: "tok_…"` thus never
 * reads as one of Portcullis's own (`token:…`, `team:…`, `tok_…`), nor as
 * another issuer's (aliases hold no `:`).
 */
export function externalId(issuerAlias: string, value: string): string {
  return `jwt:${issuerAlias}:${value}`;
}

/** One credential instance: its issuer's `jti` and the last moment (ms) it is accepted. */
export interface JtiRef {
  issuer: string;
  jti: string;
  validUntil: number;
}
