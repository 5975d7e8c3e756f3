import type { Identity } from "../model/identity.js";
import type { ReasonCode } from "../model/reason-codes.js";

/** A credential was refused: `reason` is a stable code for the wire. */
export interface CredentialRejection {
  reason: ReasonCode;
  /** A fixed phrase of the verifier's that narrows the reason for the decision log; never credential text. */
  detail?: string;
  /**
   * Who a genuine credential speaks for, when it is refused for its owner's
   * sake (`owner_disabled`): the decision log then names who was refused.
   */
  identity?: Identity;
}

export type Verification = { identity: Identity } | { rejection: CredentialRejection };

/** One kind of credential (opaque, JWT, ...). */
export interface CredentialVerifier {
  /** True when `bearer` has this verifier's shape; decided without I/O. */
  accepts(bearer: string): boolean;
  /**
   * Throws UnavailableError when it cannot decide (store or IdP down), and
   * DeadlineExceededError when `signal` (the caller's deadline) fires while
   * it waits on an IdP.
   */
  verify(bearer: string, signal?: AbortSignal): Promise<Verification>;
  /**
   * What `verify` answered for this very bearer before, when it still holds
   * and nothing needs a wait to say so; undefined when `verify` must decide.
   * Asked before `accepts`, of a bearer whose alphabet is not checked yet:
   * only a bearer `verify` accepted before may be recalled.
   */
  recall?(bearer: string, signal?: AbortSignal): Verification | undefined;
}
