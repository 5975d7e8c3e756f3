import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import type { Decider, Decision } from "../decision/decision.js";
import type { TraceHeaders } from "../tracing/tracing.js";
import {
  AuthorizationService,
  type AuthorizeRequest,
  type AuthorizeResponse,
} from "../../gen/portcullis/v1/authorization_pb.js";
import { authorizeResponseEncoder } from "./authorize-response-encoder.js";
import { authorizeResponse } from "./messages.js";

/**
 * `headers` are the call's, handed on for a trace parent (`traceparent` in
 * the gRPC metadata); `signal` fires at the call's deadline or when the
 * client cancels, and becomes the decision's.
 */
export type AuthorizeCall = (request: AuthorizeRequest, headers?: TraceHeaders, signal?: AbortSignal) => Promise<AuthorizeResponse>;

/** The same Authorize answering the AuthorizeResponse's bytes, for the lean gRPC path. */
export type EncodedAuthorizeCall = (request: AuthorizeRequest, headers?: TraceHeaders, signal?: AbortSignal) => Promise<Uint8Array>;

/** Authorize on its own, for connect-node. */
export function createAuthorize(engine: Decider): AuthorizeCall {
  const decide = authorizeDecider(engine);
  return async (request, headers, signal) => authorizeResponse(await decide(request, headers, signal));
}

/** The same Authorize, its answer encoded by `authorizeResponseEncoder`: the same bytes, cheaper to write. */
export function createEncodedAuthorize(engine: Decider): EncodedAuthorizeCall {
  const decide = authorizeDecider(engine);
  const encode = authorizeResponseEncoder();
  return async (request, headers, signal) => encode(await decide(request, headers, signal));
}

function authorizeDecider(engine: Decider): (request: AuthorizeRequest, headers?: TraceHeaders, signal?: AbortSignal) => Promise<Decision> {
  return (request, headers, signal) =>
    engine.decide(
      {
        authorization: request.authorization,
        resource: request.resource,
        host: request.host,
        requiredScope: request.requiredScope,
        signal,
      },
      headers,
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
