import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { TokenView } from "../admin/token-view.js";
import type { CredentialType as DomainCredentialType } from "../credentials/identity.js";
import type { Decision as DomainDecision } from "../decision/decision.js";
import type { TokenSource } from "../store/store.js";
import {
  AuthorizeResponseSchema,
  CredentialType,
  Decision,
  Denial,
  type AuthorizeResponse,
} from "../../gen/portcullis/v1/authorization_pb.js";
import { Source, TokenRecordSchema, type TokenRecord } from "../../gen/portcullis/v1/token_admin_pb.js";

const CREDENTIAL_TYPES: Record<DomainCredentialType, CredentialType> = {
  opaque: CredentialType.OPAQUE,
  jwt: CredentialType.JWT,
  team_token: CredentialType.TEAM_TOKEN,
  request_token: CredentialType.REQUEST_TOKEN,
};

const SOURCES: Record<TokenSource, Source> = {
  bootstrap: Source.BOOTSTRAP,
  config: Source.CONFIG,
  file: Source.FILE,
  minted: Source.MINTED,
};

export function authorizeResponse(decision: DomainDecision): AuthorizeResponse {
  const identity = decision.identity;
  return create(AuthorizeResponseSchema, {
    decision: decision.allowed ? Decision.ALLOW : Decision.DENY,
    denial: decision.allowed
      ? Denial.UNSPECIFIED
      : decision.denial === "unauthenticated"
        ? Denial.UNAUTHENTICATED
        : Denial.FORBIDDEN,
    reason: decision.reason,
    requiredScope: decision.requiredScope ?? "",
    principal:
      identity === undefined
        ? undefined
        : {
            subject: identity.subject,
            tokenId: identity.tokenId,
            credentialType: CREDENTIAL_TYPES[identity.credentialType],
            name: identity.name,
          },
    scopes: identity ? [...identity.scopes] : [],
    libraries: decision.allowed && identity ? [...identity.libraries] : [],
  });
}

export function tokenRecord(view: TokenView): TokenRecord {
  const time = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));
  return create(TokenRecordSchema, {
    tokenId: view.id,
    scopes: view.scopes,
    name: view.name,
    allowedLibraries: view.allowedLibraries,
    allowedTools: view.allowedTools,
    source: SOURCES[view.source],
    createdAt: time(view.createdAt),
    expiresAt: time(view.expiresAt),
    lastUsedAt: time(view.lastUsedAt),
    revokedAt: time(view.revokedAt),
    active: view.active,
  });
}
