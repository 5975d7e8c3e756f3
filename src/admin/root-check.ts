import type { Authenticator } from "../credentials/authenticator.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";

/** The identity behind a caller's Authorization value; Unauthenticated when there is none. */
export async function authenticateCaller(authenticator: Authenticator, authorization: string): Promise<Identity> {
  const verification = await authenticator.authenticate(authorization);
  if ("rejection" in verification) throw new UnauthenticatedError(verification.rejection.reason);
  return verification.identity;
}

/**
 * A root credential: a "*" token from the bootstrap or the configuration.
 * A "*" token of another source (a legacy token file) is not root.
 */
export function isRoot(identity: Identity): boolean {
  const rootSource = identity.source === "bootstrap" || identity.source === "config";
  return rootSource && identity.scopes.includes(WILDCARD_SCOPE);
}

export async function requireRoot(authenticator: Authenticator, authorization: string, purpose: string): Promise<Identity> {
  const identity = await authenticateCaller(authenticator, authorization);
  if (!isRoot(identity)) throw new PermissionDeniedError(`${purpose} needs a root token`);
  return identity;
}

/** A root credential, or a credential granted exactly `scope` ("*" of other sources does not count). */
export async function requireRootOrScope(authenticator: Authenticator, authorization: string, scope: string): Promise<Identity> {
  const identity = await authenticateCaller(authenticator, authorization);
  if (!isRoot(identity) && !identity.scopes.includes(scope)) {
    throw new PermissionDeniedError(`this call needs a root token or scope "${scope}"`);
  }
  return identity;
}

/** `requireRoot` bound to one authenticator: what the administration modules take as a dependency. */
export function rootGuard(authenticator: Authenticator): (authorization: string) => Promise<Identity> {
  return (authorization) => requireRoot(authenticator, authorization, "token administration");
}
