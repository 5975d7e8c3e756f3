import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import type { CallerRequirement } from "../decision/decision.js";
import { isRoot } from "../decision/root-credential.js";
import { PermissionDeniedError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import type { OAuthFlow } from "../oauth/oauth-flow.js";
import { OAuthFlowService } from "../../gen/portcullis/v1/oauth_flow_pb.js";
import { callerCredential } from "./caller-credential.js";
import { dcrKeyInput } from "./dcr-messages.js";

export const OAUTH_FLOW_SCOPE = "oauth:flow";

const FLOW_CALLER: CallerRequirement = { kind: "root_or_scope", scope: OAUTH_FLOW_SCOPE };

/** Tokens kept for another principal would be sent on that principal's requests: only root may choose one. */
function vaultKeyOf(request: { principal: string; upstreamId: string }, caller: Identity) {
  if (request.principal !== "" && request.principal !== caller.subject && !isRoot(caller)) {
    throw new PermissionDeniedError("root_required: only a root credential may keep upstream tokens for another principal");
  }
  return { principal: request.principal || caller.subject, upstreamId: request.upstreamId };
}

export function createOAuthFlowService(deps: { flow: OAuthFlow; caller: CallerGate }): ServiceImpl<typeof OAuthFlowService> {
  return {
    async startAuthorization(request, context) {
      const caller = await deps.caller(callerCredential(context), FLOW_CALLER);
      const source = request.clientSource;
      const started = await deps.flow.start({
        upstreamIssuer: request.upstreamIssuer,
        dcrKey: source.case === "dcrKey" ? dcrKeyInput(source.value) : undefined,
        client: source.case === "client" ? source.value : undefined,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        resource: request.resource,
        anyUpstream: isRoot(caller),
        storeUpstreamTokens: request.storeUpstreamTokens ? vaultKeyOf(request, caller) : undefined,
      });
      return { authorizationUrl: started.authorizationUrl, state: started.state, expiresAt: timestampFromMs(started.expiresAtMs) };
    },

    async completeAuthorization(request, context) {
      await deps.caller(callerCredential(context), FLOW_CALLER);
      const completed = await deps.flow.complete({ state: request.state, code: request.code, clientSecret: request.clientSecret });
      const { vault, ...response } = completed;
      return { ...response, expiresIn: BigInt(completed.expiresIn), upstreamTokensStored: vault !== undefined, ...vault };
    },
  };
}
