import type { Clock } from "../clock.js";
import { FailedPreconditionError, InvalidArgumentError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import { isOwnerId, OWNER_ID_RULE, type OwnerStatus } from "../model/owner.js";
import type { OwnerStore, TeamStore, TokenStore } from "../store/store.js";

/** An owner id as a caller gave it, or InvalidArgumentError naming `field`. */
export function checkedOwner(field: string, owner: string): string {
  if (!isOwnerId(owner)) throw new InvalidArgumentError(field, `must be an owner id: ${OWNER_ID_RULE}`);
  return owner;
}

/** An optional owner id: empty means none. */
export function optionalOwner(field: string, owner: string | undefined): string | undefined {
  return owner === undefined || owner === "" ? undefined : checkedOwner(field, owner);
}

/** What is shown of an owner: its state, and how much it owns. */
export interface OwnerView {
  id: string;
  active: boolean;
  status?: OwnerStatus;
  ownedTokens: number;
  ownedTeams: number;
}

/**
 * Owners' state; every operation first proves the caller is root. A
 * deactivation takes effect at once on every replica (the store announces
 * it) and revokes nothing: reactivation gives every credential back.
 */
export function createOwnerAdmin(deps: {
  requireRoot: (authorization: string) => Promise<Identity>;
  owners: OwnerStore;
  tokens: Pick<TokenStore, "list">;
  teams: Pick<TeamStore, "list">;
  clock: Clock;
}) {
  async function view(id: string, status: OwnerStatus | undefined): Promise<OwnerView> {
    const [tokens, teams] = await Promise.all([deps.tokens.list(), deps.teams.list()]);
    return {
      id,
      active: status?.deactivatedAt === undefined,
      ...(status === undefined ? {} : { status }),
      ownedTokens: tokens.filter((token) => token.owner === id).length,
      ownedTeams: teams.filter((team) => team.owner === id).length,
    };
  }

  async function setActive(authorization: string, owner: string, active: boolean): Promise<OwnerView> {
    const caller = await deps.requireRoot(authorization);
    const id = checkedOwner("owner", owner);
    if (!active && caller.owner === id) throw new FailedPreconditionError("a caller cannot deactivate its own owner");
    const status = await deps.owners.setActive(id, active, deps.clock(), caller.tokenId);
    if (status === undefined) throw new FailedPreconditionError(`owner ${id} is already ${active ? "active" : "deactivated"}`);
    return view(id, status);
  }

  return {
    async get(authorization: string, owner: string): Promise<OwnerView> {
      await deps.requireRoot(authorization);
      const id = checkedOwner("owner", owner);
      return view(id, await deps.owners.get(id));
    },
    deactivate: (authorization: string, owner: string) => setActive(authorization, owner, false),
    reactivate: (authorization: string, owner: string) => setActive(authorization, owner, true),
  };
}

export type OwnerAdmin = ReturnType<typeof createOwnerAdmin>;
