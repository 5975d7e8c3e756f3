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

/**
 * `headers` are the call's, handed on for a trace parent (`traceparent` in
 * the gRPC metadata); `signal` fires at the call's deadline or when the
 * client cancels, and becomes the decision's.
 */
export type AuthorizeCall = (request: AuthorizeRequest, headers?: TraceHeaders, signal?: AbortSignal) => Promise<AuthorizeResponse>;

/** Authorize on its own, for the lean gRPC path as well as for connect-node. */
export function createAuthorize(engine: Decider): AuthorizeCall {
  return async (request, headers, signal) =>
    authorizeResponse(
      await engine.decide({
        authorization: request.authorization,
        resource: request.resource,
        host: request.host,
        requiredScope: request.requiredScope,
        signal,
      }, headers),
    );
}

export function createAuthorizationService(deps: {
  authorize: AuthorizeCall;
  /** Asks the engine about ResolveLibraries' caller. */
  caller: CallerGate;
}): ServiceImpl<typeof AuthorizationService> {
  return {
    // connect-node's signal fires at the call's deadline (timeout-ms, grpc-timeout) and when the client goes away.
    authorize: (request, context) => deps.authorize(request, context.requestHeader, context.signal),

    async resolveLibraries(request) {
      const identity = await deps.caller(request.authorization, { kind: "any_credential" });
      return { libraries: [...identity.libraries] };
    },
  };
}
