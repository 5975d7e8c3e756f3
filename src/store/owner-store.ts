import type { OwnerStatus } from "../model/owner.js";

export interface OwnerStore {
  /** The owner's state record; undefined for an owner never changed (which is active). */
  get(id: string): Promise<OwnerStatus | undefined>;
  /**
   * Deactivates (`active` false) or reactivates the owner, at once for every
   * replica, recording when and by whom; answers the record as it is now,
   * or undefined when the owner was already so (nothing changed).
   */
  setActive(id: string, active: boolean, at: number, by: string): Promise<OwnerStatus | undefined>;
}
