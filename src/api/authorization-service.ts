import type { ServiceImpl } from "@connectrpc/connect";
import type { Authenticator } from "../credentials/authenticator.js";
import type { Decider } from "../decision/decision.js";
import { UnauthenticatedError } from "../errors.js";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { authorizeResponse } from "./messages.js";

export function createAuthorizationService(deps: {
  engine: Decider;
  authenticator: Pick<Authenticator, "authenticate">;
}): ServiceImpl<typeof AuthorizationService> {
  return {
    async authorize(request) {
      const decision = await deps.engine.decide({
        authorization: request.authorization,
        resource: request.resource,
        requiredScope: request.requiredScope,
      });
      return authorizeResponse(decision);
    },

    async resolveLibraries(request) {
      const verification = await deps.authenticator.authenticate(request.authorization);
      if ("rejection" in verification) throw new UnauthenticatedError(verification.rejection.reason);
      return { libraries: [...verification.identity.libraries] };
    },
  };
}
