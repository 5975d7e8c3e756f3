import type { ServiceImpl } from "@connectrpc/connect";
import { ttlMsOf } from "../admin/mint-validation.js";
import type { SigningKeyAdmin } from "../admin/signing-key-admin.js";
import type { TeamAdmin } from "../admin/team-admin.js";
import type { TokenAdmin } from "../admin/token-admin.js";
import { InvalidArgumentError } from "../errors.js";
import { TokenAdminService, TokenKind } from "../../gen/portcullis/v1/token_admin_pb.js";
import { callerCredential } from "./caller-credential.js";
import { signingKeyAlgorithm, signingKeyMessage, teamMessage, tokenRecord } from "./messages.js";

export function createTokenAdminService(admin: {
  tokens: TokenAdmin;
  signingKeys: SigningKeyAdmin;
  teams: TeamAdmin;
}): ServiceImpl<typeof TokenAdminService> {
  const { tokens, signingKeys, teams } = admin;
  return {
    async mintToken(request, context) {
      const teamJwt = request.kind === TokenKind.TEAM_JWT;
      if (!teamJwt && request.teamId !== "") throw new InvalidArgumentError("team_id", "only for TOKEN_KIND_TEAM_JWT");
      const { secret, token } = await tokens.mint(
        callerCredential(context),
        {
          scopes: request.scopes,
          name: request.name,
          allowedLibraries: request.allowedLibraries,
          allowedTools: request.allowedTools,
          ttlMs: request.ttl === undefined ? undefined : ttlMsOf(request.ttl),
          owner: request.owner,
        },
        teamJwt ? { teamJwt, teamId: request.teamId } : { teamJwt },
      );
      return { token: secret, record: tokenRecord(token) };
    },

    async listTokens(_request, context) {
      return { tokens: (await tokens.list(callerCredential(context))).map(tokenRecord) };
    },

    async getToken(request, context) {
      return { record: tokenRecord(await tokens.get(callerCredential(context), request.tokenId)) };
    },

    async revokeToken(request, context) {
      return { record: tokenRecord(await tokens.revoke(callerCredential(context), request.tokenId)) };
    },

    async deactivateToken(request, context) {
      return { record: tokenRecord(await tokens.setActive(callerCredential(context), request.tokenId, false)) };
    },

    async reactivateToken(request, context) {
      return { record: tokenRecord(await tokens.setActive(callerCredential(context), request.tokenId, true)) };
    },

    async createSigningKey(request, context) {
      return { key: signingKeyMessage(await signingKeys.create(callerCredential(context), signingKeyAlgorithm(request.algorithm))) };
    },

    async listSigningKeys(_request, context) {
      return { keys: (await signingKeys.list(callerCredential(context))).map(signingKeyMessage) };
    },

    async retireSigningKey(request, context) {
      return { key: signingKeyMessage(await signingKeys.retire(callerCredential(context), request.kid)) };
    },

    async createTeam(request, context) {
      return { team: teamMessage(await teams.create(callerCredential(context), request)) };
    },

    async getTeam(request, context) {
      return { team: teamMessage(await teams.get(callerCredential(context), request.teamId)) };
    },

    async listTeams(_request, context) {
      return { teams: (await teams.list(callerCredential(context))).map(teamMessage) };
    },

    async deactivateTeam(request, context) {
      return { team: teamMessage(await teams.deactivate(callerCredential(context), request.teamId)) };
    },

    async assignLibraries(request, context) {
      return { team: teamMessage(await teams.assignLibraries(callerCredential(context), request.teamId, request.libraries)) };
    },
  };
}
