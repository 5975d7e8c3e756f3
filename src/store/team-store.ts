import { AbortedError } from "../errors.js";
import type { StoredTeam } from "../model/team.js";

export interface TeamStore {
  /** Creates a team; AlreadyExistsError when its id is taken. */
  insert(team: StoredTeam): Promise<void>;
  get(id: string): Promise<StoredTeam | undefined>;
  /** Every team, oldest first, ties by id. */
  list(): Promise<StoredTeam[]>;
  /** Deactivates a team; undefined when there is no such active team. */
  deactivate(id: string, at: number): Promise<StoredTeam | undefined>;
  /** Replaces the team's libraries; undefined when there is no such team. */
  assignLibraries(id: string, libraries: string[]): Promise<StoredTeam | undefined>;
  /**
   * Makes `jti` the team's only valid token id, at once for every replica,
   * provided the active one is still `expected` (undefined: none yet): of
   * concurrent rotations from one jti one wins, the others throw
   * `concurrentRotation`. Undefined when there is no such active team.
   */
  rotateJti(id: string, expected: string | undefined, jti: string): Promise<StoredTeam | undefined>;
  /**
   * Leaves the team without a valid token, at once for every replica,
   * provided `jti` is still its active one (a token revoked after another
   * replaced it changes nothing). True when this call cleared it.
   */
  clearJti(id: string, jti: string): Promise<boolean>;
}

/** What a rotation that lost the race to another one throws, on either backend. */
export function concurrentRotation(teamId: string): AbortedError {
  return new AbortedError(`team ${teamId}: another mint rotated its token first; nothing was minted, mint again`);
}
