import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import { isRoot, requireRootOrScope } from "../admin/root-check.js";
import type { Authenticator } from "../credentials/authenticator.js";
import type { OAuthFlow } from "../oauth/oauth-flow.js";
import { OAuthFlowService } from "../../gen/portcullis/v1/oauth_flow_pb.js";
import { callerCredential } from "./caller-credential.js";
import { dcrKeyInput } from "./dcr-messages.js";

export const OAUTH_FLOW_SCOPE = "oauth:flow";

export function createOAuthFlowService(deps: { flow: OAuthFlow; authenticator: Authenticator }): ServiceImpl<typeof OAuthFlowService> {
  return {
    async startAuthorization(request, context) {
      const caller = await requireRootOrScope(deps.authenticator, callerCredential(context), OAUTH_FLOW_SCOPE);
      const source = request.clientSource;
      const started = await deps.flow.start({
        upstreamIssuer: request.upstreamIssuer,
        dcrKey: source.case === "dcrKey" ? dcrKeyInput(source.value) : undefined,
        client: source.case === "client" ? source.value : undefined,
        redirectUri: request.redirectUri,
        scopes: request.scopes,
        resource: request.resource,
        anyUpstream: isRoot(caller),
      });
      return { authorizationUrl: started.authorizationUrl, state: started.state, expiresAt: timestampFromMs(started.expiresAtMs) };
    },

    async completeAuthorization(request, context) {
      await requireRootOrScope(deps.authenticator, callerCredential(context), OAUTH_FLOW_SCOPE);
      const completed = await deps.flow.complete({ state: request.state, code: request.code, clientSecret: request.clientSecret });
      return { ...completed, expiresIn: BigInt(completed.expiresIn) };
    },
  };
}
