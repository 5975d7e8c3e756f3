import { fetchJson, FetchFailure, type FetchLimits } from "./bounded-fetch.js";

/**
 * An issuer's metadata: OIDC discovery (`<issuer>/.well-known/openid-configuration`),
 * falling back to RFC 8414 (`/.well-known/oauth-authorization-server`
 * inserted before the issuer's path). The document must name the issuer
 * exactly, so one issuer cannot hand out another's keys.
 */
export async function discoverIssuerMetadata(issuer: string, limits: FetchLimits): Promise<Record<string, unknown>> {
  const failures: string[] = [];
  for (const url of metadataUrls(issuer)) {
    try {
      const metadata = await fetchJson(url, limits);
      if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
        throw new FetchFailure(`${url} is not a JSON object`);
      }
      const document = metadata as Record<string, unknown>;
      if (document.issuer !== issuer) throw new FetchFailure(`${url} names another issuer`);
      return document;
    } catch (error) {
      if (!(error instanceof FetchFailure)) throw error;
      failures.push(error.message);
    }
  }
  throw new FetchFailure(`discovery for ${issuer} failed: ${failures.join("; ")}`);
}

/** The JWKS location an issuer's metadata names. */
export async function discoverJwksUri(issuer: string, limits: FetchLimits): Promise<string> {
  const metadata = await discoverIssuerMetadata(issuer, limits);
  const uri = metadata.jwks_uri;
  if (typeof uri !== "string" || !/^https?:\/\//.test(uri)) {
    throw new FetchFailure(`metadata of ${issuer} has no usable jwks_uri`);
  }
  return uri;
}

function metadataUrls(issuer: string): string[] {
  const trimmed = issuer.replace(/\/+$/, "");
  const url = new URL(trimmed);
  const path = url.pathname === "/" ? "" : url.pathname;
  return [`${trimmed}/.well-known/openid-configuration`, `${url.origin}/.well-known/oauth-authorization-server${path}`];
}
