import { durationMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { TokenAdmin } from "../admin/token-admin.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";
import { callerCredential } from "./caller-credential.js";
import { tokenRecord } from "./messages.js";

export function createTokenAdminService(admin: TokenAdmin): ServiceImpl<typeof TokenAdminService> {
  return {
    async mintToken(request, context) {
      const { secret, token } = await admin.mint(callerCredential(context), {
        scopes: request.scopes,
        name: request.name,
        allowedLibraries: request.allowedLibraries,
        allowedTools: request.allowedTools,
        ttlMs: request.ttl === undefined ? undefined : durationMs(request.ttl),
      });
      return { token: secret, record: tokenRecord(token) };
    },

    async listTokens(_request, context) {
      const tokens = await admin.list(callerCredential(context));
      return { tokens: tokens.map(tokenRecord) };
    },

    async getToken(request, context) {
      return { record: tokenRecord(await admin.get(callerCredential(context), request.tokenId)) };
    },

    async revokeToken(request, context) {
      return { record: tokenRecord(await admin.revoke(callerCredential(context), request.tokenId)) };
    },
  };
}
