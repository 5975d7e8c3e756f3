import type { CryptoKey, JWTPayload } from "jose";
import type { Logger } from "pino";
import type { Clock } from "../../clock.js";
import { FailedPreconditionError } from "../../errors.js";
import type { Identity } from "../../model/identity.js";
import type { ReasonCode } from "../../model/reason-codes.js";
import type { SigningKeyRecord } from "../../model/signing-key.js";
import { isTeamId, type StoredTeam } from "../../model/team.js";
import type { HeldRecords, SigningKeyReader, TeamReader, TokenReader } from "../cache/cached-reads.js";
import type { VerifiedJwtCache } from "../cache/verified-jwt-cache.js";
import type { Verification } from "../credential-verifier.js";
import { scopesOf, stringClaim, validUntil } from "./claims.js";
import type { TeamTokenConfig } from "./issuer-config.js";
import type { IssuerVerifier } from "./jwt-verifier.js";
import { isIssuedKeyId } from "./key-id.js";
import { verificationMaterial } from "./signing-key-material.js";
import { TEAM_SUBJECT_PREFIX, TEAM_TOKEN_TYPE } from "./team-token.js";
import { verifySignedJwt } from "./verify-signed-jwt.js";

/**
 * Team tokens Portcullis issued. Key state, team state and the team's
 * current `jti` are read on every request (through the caches, which every
 * replica empties of a changed record: docs/caching.md), so retiring a
 * key, deactivating a team, minting a new team token or revoking one takes
 * effect on every replica; the libraries are the team's as of now. The
 * signature and time checks, which no store change affects, are
 * remembered per token; so is the identity, recalled only while the record
 * caches still hold the very key and team records it was made of (any
 * change, expiry or feed outage ends that) and only by a verifier of the
 * same settings.
 */
export function teamTokenVerifier(deps: {
  config: TeamTokenConfig;
  signingKeys: SigningKeyReader & HeldRecords<SigningKeyRecord>;
  teams: TeamReader & HeldRecords<StoredTeam>;
  /** Read only for a token that is no longer the team's, to tell revoked from replaced. */
  tokens: TokenReader;
  verified?: VerifiedJwtCache;
  clock: Clock;
  log: Logger;
}): IssuerVerifier {
  const { config } = deps;
  // Key material never changes under a kid, so each is imported once.
  const imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  const reject = (reason: ReasonCode): Verification => ({ rejection: { reason } });
  /** The key that checks signatures of `key`, imported once; undefined (logged) when the stored key cannot be imported. */
  async function materialOf(key: SigningKeyRecord): Promise<CryptoKey | Uint8Array | undefined> {
    let material = imported.get(key.kid);
    if (material === undefined) {
      material = verificationMaterial(key);
      imported.set(key.kid, material);
    }
    try {
      return await material;
    } catch (error) {
      imported.delete(key.kid);
      deps.log.error({ kid: key.kid, err: error }, "stored signing key cannot be imported; its tokens are denied");
      return undefined;
    }
  }
  /** The stored key; "unreadable" (logged) when its sealed material opens with no configured key. */
  async function keyOf(kid: string): Promise<SigningKeyRecord | undefined | "unreadable"> {
    try {
      return await deps.signingKeys.get(kid);
    } catch (error) {
      if (!(error instanceof FailedPreconditionError)) throw error;
      deps.log.error({ kid, err: error }, "stored signing key cannot be opened (see encryption.keys); its tokens are denied");
      return "unreadable";
    }
  }
  return {
    async verify(token, parsed): Promise<Verification> {
      const { kid } = parsed.header;
      if (!isIssuedKeyId(kid)) return reject("unknown_key");
      const claimedTeam = teamIdIn(parsed.payload.sub);
      // Both reads at once; the team is trusted only after the signature is.
      const [key, team] = await Promise.all([
        keyOf(kid),
        claimedTeam === undefined ? undefined : deps.teams.get(claimedTeam),
      ]);
      if (key === undefined || key === "unreadable") return reject("unknown_key");
      if (key.state === "retired") return reject("key_retired");
      const verificationKey = await materialOf(key);
      if (verificationKey === undefined) return reject("unknown_key");
      let payload = deps.verified?.get(token, config.issuer, verificationKey);
      if (payload === undefined) {
        const expected = {
          issuer: config.issuer,
          audiences: [config.audience],
          algorithms: [key.algorithm],
          leewayS: config.leewayS,
          requiredClaims: ["sub", "jti", "iat", "exp"],
        };
        const outcome = await verifySignedJwt(token, verificationKey, expected, deps.clock(), deps.log);
        if ("reason" in outcome) return reject(outcome.reason);
        payload = outcome.payload;
        deps.verified?.keep(token, config.issuer, verificationKey, payload, validUntil(payload, config.leewayS));
      }
      const jti = stringClaim(payload, "jti");
      const scopes = scopesOf(payload, ["scope"]);
      if (payload.typ !== TEAM_TOKEN_TYPE || claimedTeam === undefined || jti === undefined || scopes === undefined) {
        return reject("bad_claim");
      }
      if (team === undefined) return reject("unknown_team");
      if (team.deactivatedAt !== undefined) return reject("team_inactive");
      if (team.activeJti !== jti) {
        // Only a token that is no longer the team's costs this read.
        const record = await deps.tokens.get(jti);
        return reject(record?.revokedAt === undefined ? "token_rotated" : "token_revoked");
      }
      const identity = teamIdentity(team, jti, scopes, payload);
      deps.verified?.vouch(token, verificationKey, {
        by: config,
        header: { alg: parsed.header.alg, kid },
        identity,
        stillHeld: () => deps.signingKeys.held(kid) === key && deps.teams.held(team.id) === team,
      });
      return { identity };
    },
    recall({ vouched }): Verification | undefined {
      return vouched.by === config && vouched.stillHeld?.() === true ? { identity: vouched.identity } : undefined;
    },
  };

  /** Frozen, as recall hands it to every later decision. */
  function teamIdentity(team: Readonly<StoredTeam>, jti: string, scopes: string[], payload: Readonly<JWTPayload>): Readonly<Identity> {
    const identity: Identity = {
      subject: `${TEAM_SUBJECT_PREFIX}${team.id}`,
      tokenId: jti,
      credentialType: "team_token",
      name: team.name,
      scopes: Object.freeze(scopes),
      libraries: team.libraries,
      allowedTools: Object.freeze([]),
      ...(team.owner === undefined ? {} : { owner: team.owner }),
      jti: Object.freeze({ issuer: config.issuer, jti, validUntil: validUntil(payload, config.leewayS)! }),
      claims: payload,
    };
    return Object.freeze(identity);
  }
}

/** The team a `sub` of `team:<id>` names; undefined for any other subject, so no odd id reaches the store. */
function teamIdIn(sub: unknown): string | undefined {
  if (typeof sub !== "string" || !sub.startsWith(TEAM_SUBJECT_PREFIX)) return undefined;
  const id = sub.slice(TEAM_SUBJECT_PREFIX.length);
  return isTeamId(id) ? id : undefined;
}
