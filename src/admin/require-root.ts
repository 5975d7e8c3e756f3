import type { Authenticator } from "../credentials/authenticator.js";
import type { Identity } from "../credentials/identity.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";

/**
 * The check every administration call starts with: the caller's own
 * credential must be a root token ("*" from the bootstrap or config source).
 */
export function rootGuard(authenticator: Authenticator): (authorization: string) => Promise<Identity> {
  return async (authorization) => {
    const verification = await authenticator.authenticate(authorization);
    if ("rejection" in verification) throw new UnauthenticatedError(verification.rejection.reason);
    const { identity } = verification;
    const rootSource = identity.source === "bootstrap" || identity.source === "config";
    if (!rootSource || !identity.scopes.includes(WILDCARD_SCOPE)) {
      throw new PermissionDeniedError("administration needs a root token");
    }
    return identity;
  };
}
