import type { Clock } from "../clock.js";
import type { TeamTokenConfig } from "../credentials/jwt/issuer-config.js";
import { signTeamToken } from "../credentials/jwt/team-token.js";
import { AbortedError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "../errors.js";
import type { SigningKeyStore, TeamStore } from "../store/store.js";
import type { MintInput } from "./mint-validation.js";
import { checkedTeamId } from "./team-admin.js";
import type { TokenView } from "./token-view.js";

/**
 * Mints a team's token with the active signing key and makes it the team's
 * only valid one. The token is signed first and rotated in second: a failed
 * rotation hands nothing out and leaves the previous token working. The
 * rotation is a compare-and-set on the jti read with the team, so of two
 * concurrent mints one gets Aborted instead of a token the other one
 * replaced; a key retired meanwhile aborts too, as its token could not verify.
 */
export function teamTokenMinter(deps: {
  signingKeys: SigningKeyStore;
  teams: TeamStore;
  config: TeamTokenConfig;
  clock: Clock;
}) {
  return async (teamId: string, request: MintInput): Promise<{ secret: string; token: TokenView }> => {
    if (request.allowedLibraries.length > 0 || request.allowedTools.length > 0) {
      throw new InvalidArgumentError("allowed_libraries", "team tokens take their libraries from the team (AssignLibraries)");
    }
    const team = await deps.teams.get(checkedTeamId(teamId));
    if (team === undefined) throw new NotFoundError(`team ${teamId} not found`);
    const key = await deps.signingKeys.active();
    if (key === undefined) throw new FailedPreconditionError("no active signing key: create one with CreateSigningKey");
    const signed = await signTeamToken({
      key,
      teamId: team.id,
      scopes: request.scopes,
      config: deps.config,
      now: deps.clock(),
      ttlMs: request.ttlMs ?? deps.config.ttlS * 1000,
    });
    if ((await deps.signingKeys.get(key.kid))?.state === "retired") {
      throw new AbortedError(`signing key ${key.kid} was retired while minting; nothing was minted, mint again`);
    }
    const rotated = await deps.teams.rotateJti(team.id, team.activeJti, signed.jti);
    if (rotated === undefined) throw new FailedPreconditionError(`team ${teamId} is deactivated`);
    return {
      secret: signed.token,
      token: {
        id: signed.jti,
        scopes: request.scopes,
        name: request.name === "" ? team.name : request.name,
        allowedLibraries: rotated.libraries,
        allowedTools: [],
        source: "minted",
        createdAt: signed.issuedAt,
        expiresAt: signed.expiresAt,
        active: true,
      },
    };
  };
}

export type TeamTokenMinter = ReturnType<typeof teamTokenMinter>;
