import { SignJWT } from "jose";
import type { StoredSigningKey } from "../../model/signing-key.js";
import type { TeamTokenConfig } from "./issuer-config.js";
import { signingMaterial } from "./signing-key-material.js";

/** Team tokens name their team as `sub: "team:<id>"` and carry `typ: "team"`. */
export const TEAM_SUBJECT_PREFIX = "team:";
export const TEAM_TOKEN_TYPE = "team";

export interface SignedTeamToken {
  token: string;
  jti: string;
  issuedAt: number;
  expiresAt: number;
}

/** Signs a team token with `key`; `now` and the lifetime in ms; `jti` is the id of its record. */
export async function signTeamToken(input: {
  key: StoredSigningKey;
  jti: string;
  teamId: string;
  scopes: readonly string[];
  config: TeamTokenConfig;
  now: number;
  ttlMs: number;
}): Promise<SignedTeamToken> {
  const { jti } = input;
  const issuedAt = Math.floor(input.now / 1000);
  const expiresAt = issuedAt + Math.ceil(input.ttlMs / 1000);
  const token = await new SignJWT({ typ: TEAM_TOKEN_TYPE, scope: input.scopes.join(" ") })
    .setProtectedHeader({ alg: input.key.algorithm, kid: input.key.kid, typ: "JWT" })
    .setIssuer(input.config.issuer)
    .setSubject(`${TEAM_SUBJECT_PREFIX}${input.teamId}`)
    .setAudience(input.config.audience)
    .setJti(jti)
    .setIssuedAt(issuedAt)
    .setExpirationTime(expiresAt)
    .sign(await signingMaterial(input.key));
  return { token, jti, issuedAt: issuedAt * 1000, expiresAt: expiresAt * 1000 };
}
