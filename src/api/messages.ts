import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { OwnerView } from "../admin/owner-admin.js";
import type { SigningKeyView } from "../admin/signing-key-admin.js";
import type { TokenView } from "../admin/token-view.js";
import type { Decision as DomainDecision } from "../decision/decision.js";
import {
  AuthorizeResponseSchema,
  CredentialType,
  Decision,
  Denial,
  type AuthorizeResponse,
} from "../../gen/portcullis/v1/authorization_pb.js";
import {
  SigningKeyAlgorithm,
  SigningKeySchema,
  SigningKeyState,
  type SigningKey,
} from "../../gen/portcullis/v1/signing_keys_pb.js";
import { OwnerSchema, type Owner } from "../../gen/portcullis/v1/owners_pb.js";
import { TeamSchema, type Team } from "../../gen/portcullis/v1/teams_pb.js";
import { Source, TokenKind, TokenRecordSchema, type TokenRecord } from "../../gen/portcullis/v1/token_admin_pb.js";
import type { CredentialType as DomainCredentialType } from "../model/identity.js";
import type { SigningKeyAlgorithm as DomainAlgorithm, SigningKeyState as DomainKeyState } from "../model/signing-key.js";
import type { StoredTeam } from "../model/team.js";
import type { TokenSource } from "../model/token.js";

export const CREDENTIAL_TYPES: Record<DomainCredentialType, CredentialType> = {
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

const ALGORITHMS: Record<DomainAlgorithm, SigningKeyAlgorithm> = {
  HS256: SigningKeyAlgorithm.HS256,
  ES256: SigningKeyAlgorithm.ES256,
};

const KEY_STATES: Record<DomainKeyState, SigningKeyState> = {
  active: SigningKeyState.ACTIVE,
  verify_only: SigningKeyState.VERIFY_ONLY,
  retired: SigningKeyState.RETIRED,
};

const time = (ms: number | undefined) => (ms === undefined ? undefined : timestampFromMs(ms));

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
            issuer: identity.issuerAlias ?? "",
            owner: identity.owner ?? "",
          },
    scopes: identity ? [...identity.scopes] : [],
    libraries: decision.allowed && identity ? [...identity.libraries] : [],
  });
}

export function tokenRecord(view: TokenView): TokenRecord {
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
    kind: view.teamId === undefined ? TokenKind.OPAQUE : TokenKind.TEAM_JWT,
    teamId: view.teamId ?? "",
    owner: view.owner ?? "",
    deactivatedAt: time(view.deactivatedAt),
  });
}

export function signingKeyMessage(view: SigningKeyView): SigningKey {
  return create(SigningKeySchema, {
    kid: view.kid,
    algorithm: ALGORITHMS[view.algorithm],
    state: KEY_STATES[view.state],
    createdAt: time(view.createdAt),
    retiredAt: time(view.retiredAt),
  });
}

/** The wire algorithm as the domain's; UNSPECIFIED means HS256. */
export function signingKeyAlgorithm(algorithm: SigningKeyAlgorithm): DomainAlgorithm {
  return algorithm === SigningKeyAlgorithm.ES256 ? "ES256" : "HS256";
}

export function teamMessage(team: StoredTeam): Team {
  return create(TeamSchema, {
    teamId: team.id,
    name: team.name,
    libraries: team.libraries,
    active: team.deactivatedAt === undefined,
    createdAt: time(team.createdAt),
    deactivatedAt: time(team.deactivatedAt),
    activeTokenId: team.activeJti ?? "",
    owner: team.owner ?? "",
  });
}

export function ownerMessage(view: OwnerView): Owner {
  return create(OwnerSchema, {
    owner: view.id,
    active: view.active,
    changedAt: time(view.status?.changedAt),
    changedBy: view.status?.changedBy ?? "",
    deactivatedAt: time(view.status?.deactivatedAt),
    ownedTokens: view.ownedTokens,
    ownedTeams: view.ownedTeams,
  });
}
