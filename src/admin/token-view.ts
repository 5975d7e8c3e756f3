import type { StoredTeam } from "../model/team.js";
import type { StoredToken } from "../model/token.js";

/**
 * What may be shown of a token: everything but the hash (and the secret,
 * which is never kept). Derived from the stored record, so the type and
 * what tokenView shows cannot drift apart.
 */
export type TokenView = Omit<StoredToken, "hash"> & { active: boolean };

/**
 * The view of `token` at `now`. A team token (one with a teamId) is shown
 * with `team` as it is now: its libraries, and active only while it is the
 * team's one valid token and the team is active.
 */
export function tokenView(token: StoredToken, now: number, team?: StoredTeam): TokenView {
  const { hash: _hash, ...shown } = token;
  const expired = token.expiresAt !== undefined && token.expiresAt <= now;
  const active = token.revokedAt === undefined && token.deactivatedAt === undefined && !expired;
  if (token.teamId === undefined) return { ...shown, active };
  const inForce = team !== undefined && team.activeJti === token.id && team.deactivatedAt === undefined;
  return { ...shown, allowedLibraries: team?.libraries ?? [], active: active && inForce };
}
