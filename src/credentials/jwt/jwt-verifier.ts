import type { ReasonCode } from "../../model/reason-codes.js";
import type { CredentialVerifier, Verification } from "../credential-verifier.js";
import { hasJwsShape, parseJws, type ParsedJws } from "./jws-shape.js";
import { isKeyId } from "./key-id.js";

/** Verifies the tokens of one issuer, chosen by their `iss`. */
export interface IssuerVerifier {
  verify(token: string, parsed: ParsedJws, signal?: AbortSignal): Promise<Verification>;
}

/**
 * Every JWT: takes compact JWS bearers (never `pcl_` secrets), refuses
 * what no issuer may send (`alg: none`, odd `kid`s), and hands the token to
 * the verifier of the issuer its `iss` names, so only that issuer's keys are
 * ever tried.
 */
export function jwtVerifier(issuers: ReadonlyMap<string, IssuerVerifier>): CredentialVerifier {
  return {
    accepts: hasJwsShape,
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
