import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import type { Decider } from "../decision/decision.js";
import type { TraceHeaders } from "../tracing/tracing.js";
import {
  AuthorizationService,
  type AuthorizeRequest,
  type AuthorizeResponse,
} from "../../gen/portcullis/v1/authorization_pb.js";
import { authorizeResponse } from "./messages.js";

/** `headers` are the call's, handed on for a trace parent (`traceparent` in the gRPC metadata). */
export type AuthorizeCall = (request: AuthorizeRequest, headers?: TraceHeaders) => Promise<AuthorizeResponse>;

/** Authorize on its own, for the lean gRPC path as well as for connect-node. */
export function createAuthorize(engine: Decider): AuthorizeCall {
  return async (request, headers) =>
    authorizeResponse(
      await engine.decide({
        authorization: request.authorization,
        resource: request.resource,
        host: request.host,
        requiredScope: request.requiredScope,
      }, headers),
    );
}

export function createAuthorizationService(deps: {
  authorize: AuthorizeCall;
  /** Asks the engine about ResolveLibraries' caller. */
  caller: CallerGate;
}): ServiceImpl<typeof AuthorizationService> {
  return {
    authorize: (request, context) => deps.authorize(request, context.requestHeader),

    async resolveLibraries(request) {
      const identity = await deps.caller(request.authorization, { kind: "any_credential" });
      return { libraries: [...identity.libraries] };
    },
  };
}
