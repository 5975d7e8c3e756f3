import type { ServiceImpl } from "@connectrpc/connect";
import type { CallerGate } from "../decision/caller-gate.js";
import type { Decider } from "../decision/decision.js";
import {
  AuthorizationService,
  type AuthorizeRequest,
  type AuthorizeResponse,
} from "../../gen/portcullis/v1/authorization_pb.js";
import { authorizeResponse } from "./messages.js";

export type AuthorizeCall = (request: AuthorizeRequest) => Promise<AuthorizeResponse>;

/** Authorize on its own, for the lean gRPC path as well as for connect-node. */
export function createAuthorize(engine: Decider): AuthorizeCall {
  return async (request) =>
    authorizeResponse(
      await engine.decide({
        authorization: request.authorization,
        resource: request.resource,
        host: request.host,
        requiredScope: request.requiredScope,
      }),
    );
}

export function createAuthorizationService(deps: {
  authorize: AuthorizeCall;
  /** Asks the engine about ResolveLibraries' caller. */
  caller: CallerGate;
}): ServiceImpl<typeof AuthorizationService> {
  return {
    authorize: (request) => deps.authorize(request),

    async resolveLibraries(request) {
      const identity = await deps.caller(request.authorization, { kind: "any_credential" });
      return { libraries: [...identity.libraries] };
    },
  };
}
