import type { Logger } from "pino";

/**
 * Every administrative change the audit log names: a closed set, listed in
 * docs/audit-and-decision-logs.md. `team.rotate` is a team token minted
 * (which replaces the team's previous one); `dcr.lease_acquire` is logged
 * for every AcquireRegistration, whichever of its answers it got.
 */
export const AUDIT_EVENTS = [
  "token.mint",
  "token.revoke",
  "token.deactivate",
  "token.reactivate",
  "team.create",
  "team.assign",
  "team.deactivate",
  "team.rotate",
  "signing_key.create",
  "signing_key.retire",
  "dcr.put",
  "dcr.delete",
  "dcr.lease_acquire",
  "owner.deactivate",
  "owner.reactivate",
  "upstream_token.delete",
  "upstream_token.delete_all",
] as const;

export type AuditEvent = (typeof AUDIT_EVENTS)[number];

/**
 * Who made a change: the token id of the bearer the engine verified, and the
 * peer certificate's identity where the listener asked for one. A field is
 * absent when it is unknown (a refused credential has no token id).
 */
export interface AuditCaller {
  tokenId?: string;
  /** The acting user: the owner of the caller's credential, when it has one. */
  owner?: string;
  /** With mTLS: the client certificate's names (URI SANs as written, DNS SANs as `dns:<name>`), else its fingerprint. */
  certificate?: string;
}

/** Ids of what a change touched; only ids, never a secret or a record. */
export type AuditTargets = Record<string, string | Record<string, string>>;

export interface AuditEntry {
  event: AuditEvent;
  caller: AuditCaller;
  targets: AuditTargets;
  /** The wire code of a failed change, in Connect's spelling (`permission_denied`); absent on success. */
  failure?: string;
  /** What a change that has several answers answered (a lease acquisition's). */
  result?: string;
  requestId: string;
}

export interface AuditLog {
  record(entry: AuditEntry): void;
}

/**
 * Audit lines, marked `log: "audit"`, on the service's own logger, so on its
 * destination and with its credential masking, but at a level of their own:
 * `log_level` (even `silent`) never turns them off.
 */
export function auditLog(log: Logger): AuditLog {
  const audit = log.child({ log: "audit" }, { level: "info" });
  return {
    record({ event, caller, targets, failure, result, requestId }) {
      audit.info(
        {
          event,
          caller,
          ...targets,
          outcome: failure === undefined ? "success" : "failure",
          ...(failure === undefined ? {} : { code: failure }),
          ...(result === undefined ? {} : { result }),
          requestId,
        },
        `audit: ${event}`,
      );
    },
  };
}
