import type { ReasonCode } from "../../model/reason-codes.js";
import { hasDuplicateMemberNames } from "../../json-member-names.js";
import { OPAQUE_TOKEN_PREFIX } from "../opaque-token.js";

/** A compact JWS taken apart, nothing verified yet. */
export interface ParsedJws {
  header: Record<string, unknown> & { alg: string };
  payload: Record<string, unknown>;
}

/** `detail` is a fixed phrase of ours, for the decision log: never the token's text. */
export type JwsParse = ParsedJws | { reason: ReasonCode; detail?: string };

/** Why a header or payload that parses is refused all the same. */
export const DUPLICATE_MEMBER_NAME = "duplicate member name";

const SEGMENT = /^[A-Za-z0-9_-]*$/;

/**
 * True when `bearer` is a compact JWS: three base64url segments and a
 * protected header that is a JSON object with an `alg`. Opaque secrets
 * (`pcl_…`) never are, whatever they look like.
 */
export function hasJwsShape(bearer: string): boolean {
  if (bearer.startsWith(OPAQUE_TOKEN_PREFIX)) return false;
  const segments = jwsSegments(bearer);
  if (segments === undefined) return false;
  const header = decodeObject(segments[0]);
  return header !== undefined && typeof header.object.alg === "string";
}

/**
 * Takes a compact JWS apart, saying precisely what is wrong when it cannot:
 * `malformed_jwt` (not three base64url segments), `bad_jwt_header`,
 * `bad_jwt_payload` (not a JSON object). A header or payload that names a
 * member twice reads one way here and another way to a parser that keeps
 * the first: it is refused (`bad_jwt_header`, `bad_claim`) before any key
 * is looked at.
 */
export function parseJws(bearer: string): JwsParse {
  const segments = jwsSegments(bearer);
  if (segments === undefined) return { reason: "malformed_jwt" };
  const header = decodeObject(segments[0]);
  if (header === undefined || typeof header.object.alg !== "string") return { reason: "bad_jwt_header" };
  if (hasDuplicateMemberNames(header.text)) return { reason: "bad_jwt_header", detail: DUPLICATE_MEMBER_NAME };
  const payload = decodeObject(segments[1]);
  if (payload === undefined) return { reason: "bad_jwt_payload" };
  if (hasDuplicateMemberNames(payload.text)) return { reason: "bad_claim", detail: DUPLICATE_MEMBER_NAME };
  return { header: header.object as ParsedJws["header"], payload: payload.object };
}

/** True when `bearer` was meant as a JWT (two dots), well-formed or not. */
export function looksLikeJwt(bearer: string): boolean {
  return !bearer.startsWith(OPAQUE_TOKEN_PREFIX) && bearer.split(".").length === 3;
}

function jwsSegments(bearer: string): [string, string, string] | undefined {
  const segments = bearer.split(".");
  if (segments.length !== 3) return undefined;
  const [header = "", payload = "", signature = ""] = segments;
  // A length of 1 mod 4 cannot be base64url; Buffer would silently drop it.
  const valid = (segment: string) => SEGMENT.test(segment) && segment.length % 4 !== 1;
  if (header === "" || payload === "" || !valid(header) || !valid(payload) || !valid(signature)) return undefined;
  return [header, payload, signature];
}

/** The segment's JSON object, with the text it was parsed from. */
function decodeObject(segment: string): { object: Record<string, unknown>; text: string } | undefined {
  const text = Buffer.from(segment, "base64url").toString("utf8");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === "object" && value !== null && !Array.isArray(value) ? { object: value as Record<string, unknown>, text } : undefined;
}
