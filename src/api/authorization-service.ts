import type { ServiceImpl } from "@connectrpc/connect";
import type { Authenticator } from "../credentials/authenticator.js";
import type { Decider } from "../decision/decision.js";
import { UnauthenticatedError } from "../errors.js";
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
  authenticator: Pick<Authenticator, "authenticate">;
}): ServiceImpl<typeof AuthorizationService> {
  return {
    authorize: (request) => deps.authorize(request),

    async resolveLibraries(request) {
      const verification = await deps.authenticator.authenticate(request.authorization);
      if ("rejection" in verification) throw new UnauthenticatedError(verification.rejection.reason);
      return { libraries: [...verification.identity.libraries] };
    },
  };
}
