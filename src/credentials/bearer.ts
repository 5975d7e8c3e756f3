import type { ReasonCode } from "../model/reason-codes.js";
/** Longest Authorization value considered; longer input is refused unread. */
export const MAX_AUTHORIZATION_LENGTH = 8192;

export type BearerExtraction = { bearer: string } | { reason: ReasonCode };

/** The bearer token alphabet (RFC 6750 b64token): every token Portcullis accepts is spelled in it. */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Takes the token out of an Authorization header value: "Bearer <token>"
 * (scheme case-insensitive) or a bare token.
 */
export function extractBearer(authorization: string): BearerExtraction {
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) return { reason: "credential_too_long" };
  const value = authorization.trim();
  // "Bearer" alone is a header without its token, not a bare token named "Bearer".
  if (value === "" || value.toLowerCase() === "bearer") return { reason: "missing_credential" };
  const space = value.indexOf(" ");
  let token = value;
  if (space !== -1) {
    if (value.slice(0, space).toLowerCase() !== "bearer") return { reason: "unsupported_scheme" };
    token = value.slice(space + 1).trim();
    if (token === "") return { reason: "missing_credential" };
  }
  if (!B64TOKEN.test(token)) return { reason: "malformed_credential" };
  return { bearer: token };
}
