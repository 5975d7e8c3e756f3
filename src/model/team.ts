const TEAM_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `value` can be a team's id (a lowercase UUID, as teams are created with). */
export function isTeamId(value: string): boolean {
  return TEAM_ID.test(value);
}

export interface StoredTeam {
  /** A UUID; team tokens name the team as `team:<id>`. */
  id: string;
  name: string;
  /** The user the team belongs to (src/model/owner.ts): its token stops while that owner is deactivated. */
  owner?: string;
  libraries: string[];
  createdAt: number;
  /** The `jti` of the one team token that is valid now. */
  activeJti?: string;
  deactivatedAt?: number;
}
