import type { Clock } from "../clock.js";
import type { TeamTokenConfig } from "../credentials/jwt/issuer-config.js";
import { signTeamToken } from "../credentials/jwt/team-token.js";
import { randomTokenId } from "../credentials/opaque-token.js";
import { AbortedError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { StoredToken } from "../model/token.js";
import type { SigningKeyStore, TeamStore, TokenStore } from "../store/store.js";
import type { MintInput } from "./mint-validation.js";
import { checkedTeamId } from "./team-admin.js";
import { tokenView, type TokenView } from "./token-view.js";

/**
 * Mints a team's token with the active signing key and makes it the team's
 * only valid one. The token is signed and its record (id = jti, no secret)
 * written first, and rotated in last: a failed rotation hands nothing out
 * and leaves the previous token working. The rotation is a compare-and-set
 * on the jti read with the team, so of two concurrent mints one gets
 * Aborted instead of a token the other one replaced; a key retired
 * meanwhile aborts too, as its token could not verify.
 */
export function teamTokenMinter(deps: {
  signingKeys: SigningKeyStore;
  teams: TeamStore;
  tokens: TokenStore;
  config: TeamTokenConfig;
  clock: Clock;
}) {
  return async (teamId: string, request: MintInput): Promise<{ secret: string; token: TokenView }> => {
    if (request.allowedLibraries.length > 0 || request.allowedTools.length > 0) {
      throw new InvalidArgumentError("allowed_libraries", "team tokens take their libraries from the team (AssignLibraries)");
    }
    const team = await deps.teams.get(checkedTeamId(teamId));
    if (team === undefined) throw new NotFoundError(`team ${teamId} not found`);
    if (request.owner !== undefined && request.owner !== team.owner) {
      throw new InvalidArgumentError("owner", "a team token belongs to its team's owner; leave it empty or give that one");
    }
    const key = await deps.signingKeys.active();
    if (key === undefined) throw new FailedPreconditionError("no active signing key: create one with CreateSigningKey");
    const signed = await signTeamToken({
      key,
      jti: randomTokenId(),
      teamId: team.id,
      ...(team.owner === undefined ? {} : { owner: team.owner }),
      scopes: request.scopes,
      config: deps.config,
      now: deps.clock(),
      ttlMs: request.ttlMs ?? deps.config.ttlS * 1000,
    });
    if ((await deps.signingKeys.get(key.kid))?.state === "retired") {
      throw new AbortedError(`signing key ${key.kid} was retired while minting; nothing was minted, mint again`);
    }
    const record: StoredToken = {
      id: signed.jti,
      hash: "",
      teamId: team.id,
      ...(team.owner === undefined ? {} : { owner: team.owner }),
      scopes: request.scopes,
      name: request.name === "" ? team.name : request.name,
      allowedLibraries: [],
      allowedTools: [],
      source: "minted",
      createdAt: signed.issuedAt,
      expiresAt: signed.expiresAt,
    };
    await deps.tokens.insert(record);
    const rotated = await deps.teams.rotateJti(team.id, team.activeJti, signed.jti).catch(async (error: unknown) => {
      await withdraw(record);
      throw error;
    });
    if (rotated === undefined) {
      await withdraw(record);
      throw new FailedPreconditionError(`team ${teamId} is deactivated`);
    }
    return { secret: signed.token, token: tokenView(record, deps.clock(), rotated) };
  };

  /**
   * The record of a token never handed out is marked revoked, so the list
   * does not show it as a token someone holds. Best effort: it is inactive
   * either way, as it never became the team's token.
   */
  async function withdraw(record: StoredToken): Promise<void> {
    await deps.tokens.revoke(record.id, deps.clock()).catch(() => undefined);
  }
}

export type TeamTokenMinter = ReturnType<typeof teamTokenMinter>;
