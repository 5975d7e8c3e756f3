import type { ReasonCode } from "../model/reason-codes.js";
/** Longest Authorization value considered; longer input is refused unread. */
export const MAX_AUTHORIZATION_LENGTH = 8192;

export type BearerExtraction = { bearer: string } | { reason: ReasonCode };

/** The bearer token alphabet (RFC 6750 b64token): every token Portcullis accepts is spelled in it. */
export const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** The one scheme taken: its ASCII letters in any case, as RFC 9110 §11.1 compares schemes. */
const BEARER_SCHEME = /^bearer$/i;

/**
 * Takes the token out of an Authorization header value: "Bearer <token>"
 * (scheme case-insensitive) or a bare token.
 */
export function extractBearer(authorization: string): BearerExtraction {
  const taken = takeBearer(authorization);
  return "reason" in taken ? taken : inBearerAlphabet(taken.bearer);
}

/**
 * What extractBearer takes out, before the token's alphabet is checked: for
 * a caller that first asks whether it has accepted this very token before
 * (a token accepted before was checked then), and checks the rest with
 * inBearerAlphabet.
 */
export function takeBearer(authorization: string): BearerExtraction {
  if (authorization.length > MAX_AUTHORIZATION_LENGTH) return { reason: "credential_too_long" };
  const value = authorization.trim();
  if (value === "") return { reason: "missing_credential" };
  const space = value.indexOf(" ");
  if (space === -1) {
    // "Bearer" alone is a header without its token, not a bare token named "Bearer".
    return BEARER_SCHEME.test(value) ? { reason: "missing_credential" } : { bearer: value };
  }
  if (!BEARER_SCHEME.test(value.slice(0, space))) return { reason: "unsupported_scheme" };
  const token = value.slice(space + 1).trim();
  return token === "" ? { reason: "missing_credential" } : { bearer: token };
}

/** `bearer` when it is spelled in the bearer token alphabet; `malformed_credential` otherwise. */
export function inBearerAlphabet(bearer: string): BearerExtraction {
  return B64TOKEN.test(bearer) ? { bearer } : { reason: "malformed_credential" };
}
