/** Names one DCR registration; src/oauth/dcr-key-input.ts checks one given by a caller. */
export interface DcrKey {
  issuer: string;
  upstreamId: string;
  redirectUri: string;
  /** Canonical scope-set hash, 64 lowercase hex characters. */
  scopesHash: string;
}

/**
 * The length-prefixed form `<bytes>:<issuer>:<bytes>:<upstream_id>:<bytes>:<redirect_uri>:<scopes_hash>`
 * (UTF-8 byte counts), unambiguous although the parts may hold colons.
 * Redis keys use it verbatim, which is what makes them ToolHive's keys.
 */
export function encodeDcrKey(key: DcrKey): string {
  return [key.issuer, key.upstreamId, key.redirectUri]
    .map((part) => `${Buffer.byteLength(part, "utf8")}:${part}`)
    .concat(key.scopesHash)
    .join(":");
}
