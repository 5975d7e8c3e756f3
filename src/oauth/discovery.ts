import type { Clock } from "../clock.js";
import { FailedPreconditionError, UnavailableError } from "../errors.js";
import { boundedFetch, endpointName, jsonObject, type HttpLimits } from "./bounded-fetch.js";
import { isUpstreamUrl } from "./upstream-url.js";

/** What Portcullis uses of an OpenID Provider's discovery document. */
export interface ProviderMetadata {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** Absent for plain OAuth servers; ID tokens cannot be validated then. */
  jwksUri?: string;
}

const MAX_CACHED = 256;

/**
 * OpenID Connect Discovery 1.0, cached per issuer for `cacheMs` (failures
 * are not cached, so a recovering provider is retried at once). Concurrent
 * lookups of one issuer share one request.
 */
export class DiscoveryClient {
  private readonly cache = new Map<string, { fetchedAt: number; metadata: Promise<ProviderMetadata> }>();

  constructor(
    private readonly http: HttpLimits,
    private readonly cacheMs: number,
    private readonly clock: Clock,
  ) {}

  metadata(issuer: string): Promise<ProviderMetadata> {
    const now = this.clock();
    const cached = this.cache.get(issuer);
    if (cached !== undefined && now - cached.fetchedAt < this.cacheMs) return cached.metadata;
    const metadata = this.fetch(issuer);
    this.cache.delete(issuer);
    this.cache.set(issuer, { fetchedAt: now, metadata });
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    metadata.catch(() => {
      if (this.cache.get(issuer)?.metadata === metadata) this.cache.delete(issuer);
    });
    return metadata;
  }

  private async fetch(issuer: string): Promise<ProviderMetadata> {
    const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
    const response = await boundedFetch(url, { headers: { accept: "application/json" } }, this.http, "OIDC discovery");
    const document = response.status === 200 ? jsonObject(response) : undefined;
    if (response.status >= 500) throw new UnavailableError(`OIDC discovery (${endpointName(url)}) answered HTTP ${response.status}`);
    if (document === undefined) {
      throw new FailedPreconditionError(`discovery_failed: ${endpointName(url)} answered HTTP ${response.status} without a JSON document`);
    }
    // OIDC Discovery §4.3: the document must name exactly the issuer it was fetched for.
    if (document.issuer !== issuer) throw new FailedPreconditionError("discovery_failed: the document names another issuer");
    const endpoint = (name: string, required: boolean): string | undefined => {
      const value = document[name];
      if (value === undefined && !required) return undefined;
      if (typeof value !== "string" || !isUpstreamUrl(value)) {
        throw new FailedPreconditionError(`discovery_failed: ${name} is missing or not an https URL`);
      }
      return value;
    };
    return {
      issuer,
      authorizationEndpoint: endpoint("authorization_endpoint", true)!,
      tokenEndpoint: endpoint("token_endpoint", true)!,
      jwksUri: endpoint("jwks_uri", false),
    };
  }
}
