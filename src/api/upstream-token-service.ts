import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import { FailedPreconditionError } from "../errors.js";
import type { UpstreamTokenMetadata } from "../model/upstream-token.js";
import type { UpstreamTokenVault } from "../oauth/upstream-token-vault.js";
import { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";
import { callerCredential } from "./caller-credential.js";

/** The vault's administration: metadata and deletions, root only; no call returns a token. */
export function createUpstreamTokenService(deps: { vault?: UpstreamTokenVault; caller: CallerGate }): ServiceImpl<typeof UpstreamTokenService> {
  const vaultFor = async (context: HandlerContext) => {
    await deps.caller(callerCredential(context), { kind: "root", purpose: "upstream token administration" });
    if (deps.vault === undefined) {
      throw new FailedPreconditionError("upstream_tokens_off: this server keeps no upstream tokens (see upstream_tokens in the configuration)");
    }
    return deps.vault;
  };
  return {
    async listUpstreamTokens(request, context) {
      const vault = await vaultFor(context);
      return { entries: (await vault.list(request.principal)).map(entryMessage) };
    },
    async deleteUpstreamToken(request, context) {
      await (await vaultFor(context)).delete({ principal: request.principal, upstreamId: request.upstreamId });
      return {};
    },
    async deleteUpstreamTokens(request, context) {
      return { deleted: await (await vaultFor(context)).deleteAll(request.principal) };
    },
  };
}

function entryMessage(entry: UpstreamTokenMetadata) {
  return {
    principal: entry.principal,
    upstreamId: entry.upstreamId,
    scopes: entry.scopes,
    expiresAt: entry.expiresAt === 0 ? undefined : timestampFromMs(entry.expiresAt),
    createdAt: timestampFromMs(entry.createdAt),
    refreshedAt: timestampFromMs(entry.refreshedAt),
    tokenEndpoint: entry.tokenEndpoint,
    clientId: entry.clientId,
    refreshable: entry.refreshable,
  };
}
