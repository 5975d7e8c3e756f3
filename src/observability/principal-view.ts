import { createHmac } from "node:crypto";
import type { Identity } from "../model/identity.js";
import type { SubjectMode } from "./log-settings.js";

/** Who a decision was about, as a decision line shows it. */
export interface LoggedPrincipal {
  tokenId?: string;
  /** The user the credential belongs to: an id the operator assigned, not personal data the IdP sent. */
  owner?: string;
  /** Alias of the external issuer that vouched for the subject. */
  issuer?: string;
  /** `log.subjects: plain`. */
  subject?: string;
  /** `log.subjects: hash`: HMAC-SHA-256 of the subject, hex. */
  subjectHash?: string;
}

export type PrincipalView = (identity: Identity) => LoggedPrincipal;

/**
 * Only subjects an external issuer chose (`jwt:<alias>:<sub>`) may be personal
 * data: Portcullis's own (`token:<id>`, `team:<id>`) say no more than the
 * token id, and are left out. A keyed hash rather than a bare one, so nobody
 * without the key can test a guessed subject (an e-mail address) against it.
 */
export function principalView(mode: SubjectMode, key: Buffer): PrincipalView {
  return (identity) => {
    const principal: LoggedPrincipal = {};
    if (identity.tokenId !== "") principal.tokenId = identity.tokenId;
    if (identity.owner !== undefined) principal.owner = identity.owner;
    if (identity.issuerAlias === undefined) return principal;
    principal.issuer = identity.issuerAlias;
    if (mode === "plain") principal.subject = identity.subject;
    else if (mode === "hash") principal.subjectHash = createHmac("sha256", key).update(identity.subject).digest("hex");
    return principal;
  };
}
