import { InvalidArgumentError } from "../errors.js";

const MAX_SCOPES = 100;
const MAX_SCOPE_LENGTH = 256;
/** RFC 6749 §3.3 scope-token characters: printable ASCII except space, '"' and '\'. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** Checks a list of OAuth scopes, naming `field` when one is not a scope token. */
export function checkedScopes(field: string, scopes: readonly string[]): readonly string[] {
  if (scopes.length > MAX_SCOPES) throw new InvalidArgumentError(field, `at most ${MAX_SCOPES} scopes`);
  for (const scope of scopes) {
    if (scope.length > MAX_SCOPE_LENGTH || !SCOPE_TOKEN.test(scope)) {
      throw new InvalidArgumentError(field, `each scope must be 1-${MAX_SCOPE_LENGTH} scope-token characters (RFC 6749 §3.3)`);
    }
  }
  return scopes;
}
