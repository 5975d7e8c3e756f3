import type { ReasonCode } from "../../model/reason-codes.js";
import type { Recalled, VerifiedJwtCache } from "../cache/verified-jwt-cache.js";
import { OPAQUE_TOKEN_PREFIX } from "../opaque-token.js";
import type { CredentialVerifier, Verification } from "../credential-verifier.js";
import { hasJwsShape, parseJws, type ParsedJws } from "./jws-shape.js";
import { isKeyId } from "./key-id.js";

/** Verifies the tokens of one issuer, chosen by their `iss`. */
export interface IssuerVerifier {
  verify(token: string, parsed: ParsedJws, signal?: AbortSignal): Promise<Verification>;
  /**
   * The verification of a token this issuer's verifier vouched for, when it
   * still holds with nothing to wait for; undefined sends the token the full way.
   */
  recall?(entry: Recalled, signal?: AbortSignal): Verification | undefined;
}

/**
 * Every JWT: takes compact JWS bearers (never `pcl_` secrets), refuses
 * what no issuer may send (`alg: none`, odd `kid`s), and hands the token to
 * the verifier of the issuer its `iss` names, so only that issuer's keys are
 * ever tried. A token in `verified` is recalled by the verifier that vouched
 * for it, untaken apart.
 */
export function jwtVerifier(issuers: ReadonlyMap<string, IssuerVerifier>, verified?: VerifiedJwtCache): CredentialVerifier {
  return {
    accepts: hasJwsShape,
    recall(bearer, signal) {
      // A `pcl_` secret or a bearer without a dot is no JWS: its request pays no digest for a lookup that cannot hit.
      if (bearer.startsWith(OPAQUE_TOKEN_PREFIX) || !bearer.includes(".")) return undefined;
      const entry = verified?.recall(bearer);
      return entry === undefined ? undefined : issuers.get(entry.issuer)?.recall?.(entry, signal);
    },
    async verify(bearer, signal): Promise<Verification> {
      const parsed = parseJws(bearer);
      if ("reason" in parsed) return { rejection: parsed };
      const { alg, kid } = parsed.header;
      if (alg.toLowerCase() === "none") return reject("alg_none");
      if (kid !== undefined && !isKeyId(kid)) return reject("bad_kid");
      // Portcullis understands no JWS extension, so every `crit` names one it must refuse (RFC 7515 §4.1.11).
      // Refused here, it is a header fault; jose would report it as an unsupported algorithm.
      if (parsed.header.crit !== undefined) return reject("bad_jwt_header");
      const iss = parsed.payload.iss;
      const issuer = typeof iss === "string" ? issuers.get(iss) : undefined;
      if (issuer === undefined) return reject("unknown_issuer");
      return issuer.verify(bearer, parsed, signal);
    },
  };
}

function reject(reason: ReasonCode): Verification {
  return { rejection: { reason } };
}
