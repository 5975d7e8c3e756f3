import type { Identity } from "../model/identity.js";
import { WILDCARD_SCOPE } from "../policy/scopes.js";

/**
 * A root credential: a "*" token from the bootstrap or the configuration.
 * A "*" token of another source (a legacy token file) is not root.
 */
export function isRoot(identity: Identity): boolean {
  const rootSource = identity.source === "bootstrap" || identity.source === "config";
  return rootSource && identity.scopes.includes(WILDCARD_SCOPE);
}
