import type { OAuthFlowRecord } from "../model/oauth-flow-record.js";

export type OAuthStateLookup = { record: OAuthFlowRecord } | { used: true } | { unknown: true };

/** `claim` names this one consumption: only its holder can put the flow back. */
export type OAuthStateConsumption = { record: OAuthFlowRecord; claim: string } | { used: true } | { unknown: true };

export interface OAuthStateStore {
  /** Stores a new flow until `record.expiresAt`; AlreadyExistsError if the id is taken. */
  insert(stateId: string, record: OAuthFlowRecord): Promise<void>;
  /** The flow as `consume` would find it, left in place: for checks that must not use it up. */
  find(stateId: string, nowMs: number): Promise<OAuthStateLookup>;
  /**
   * Takes the flow out, once: the first call gets the record, later calls
   * `used` (until the flow would have expired), unknown or expired ids `unknown`.
   */
  consume(stateId: string, nowMs: number): Promise<OAuthStateConsumption>;
  /**
   * Puts a consumed flow back, atomically and only while it is still the
   * consumption `claim` left (not expired, not put back already), with the
   * time it had left. True when it was put back.
   */
  restore(stateId: string, claim: string, record: OAuthFlowRecord, nowMs: number): Promise<boolean>;
}
