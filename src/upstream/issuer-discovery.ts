import type { Clock } from "../clock.js";
import { FailedPreconditionError, UnavailableError } from "../errors.js";
import { endpointName, getJsonObject, type HttpLimits } from "./bounded-fetch.js";
import { isIssuerEndpoint } from "./upstream-url.js";

/** What Portcullis uses of an issuer's metadata; an endpoint the document does not name is absent. */
export interface IssuerMetadata {
  issuer: string;
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  /** Absent for plain OAuth servers; their tokens cannot be verified then. */
  jwksUri?: string;
}

type EndpointName = Exclude<keyof IssuerMetadata, "issuer">;

/** The metadata member behind each endpoint, as OIDC Discovery and RFC 8414 spell it. */
const MEMBERS: Record<EndpointName, string> = {
  authorizationEndpoint: "authorization_endpoint",
  tokenEndpoint: "token_endpoint",
  jwksUri: "jwks_uri",
};

const MAX_CACHED = 256;

/**
 * Issuer metadata by OpenID Connect Discovery 1.0, falling back to RFC 8414
 * (`/.well-known/oauth-authorization-server` inserted before the issuer's
 * path). Cached per issuer for `cacheMs`; failures are not cached, so a
 * recovering issuer is asked again at once. Concurrent lookups of one
 * issuer share one request. Failures: UnavailableError when the issuer
 * could not answer, FailedPreconditionError "discovery_failed: ..." when
 * its answer is unusable.
 */
export class IssuerDiscovery {
  private readonly cache = new Map<string, { fetchedAt: number; metadata: Promise<IssuerMetadata> }>();

  constructor(
    private readonly limits: HttpLimits,
    private readonly cacheMs: number,
    private readonly clock: Clock,
  ) {}

  metadata(issuer: string): Promise<IssuerMetadata> {
    const now = this.clock();
    const cached = this.cache.get(issuer);
    if (cached !== undefined && now - cached.fetchedAt < this.cacheMs) return cached.metadata;
    const metadata = this.discover(issuer);
    this.cache.delete(issuer);
    this.cache.set(issuer, { fetchedAt: now, metadata });
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    metadata.catch(() => {
      if (this.cache.get(issuer)?.metadata === metadata) this.cache.delete(issuer);
    });
    return metadata;
  }

  /** An endpoint the caller cannot do without. */
  async endpoint(issuer: string, name: EndpointName): Promise<string> {
    const value = (await this.metadata(issuer))[name];
    if (value === undefined) throw new FailedPreconditionError(`discovery_failed: the issuer's metadata names no ${MEMBERS[name]}`);
    return value;
  }

  private async discover(issuer: string): Promise<IssuerMetadata> {
    const failures: unknown[] = [];
    for (const [what, url] of metadataUrls(issuer)) {
      try {
        return await this.read(issuer, url, what);
      } catch (error) {
        failures.push(error);
      }
    }
    // An issuer that could not answer may answer later; say so rather than that its metadata is unusable.
    throw failures.find((failure) => failure instanceof UnavailableError) ?? failures[0];
  }

  private async read(issuer: string, url: string, what: string): Promise<IssuerMetadata> {
    const { status, document } = await getJsonObject(url, this.limits, what);
    if (document === undefined) {
      throw new FailedPreconditionError(`discovery_failed: ${endpointName(url)} answered HTTP ${status} without a JSON document`);
    }
    // OIDC Discovery §4.3, RFC 8414 §3.3: the document must name exactly the issuer it was fetched for,
    // so one issuer cannot hand out another's keys.
    if (document.issuer !== issuer) throw new FailedPreconditionError(`discovery_failed: ${endpointName(url)} names another issuer`);
    const metadata: IssuerMetadata = { issuer };
    for (const [name, member] of Object.entries(MEMBERS) as [EndpointName, string][]) {
      const value = document[member];
      if (value === undefined) continue;
      if (typeof value !== "string" || !isIssuerEndpoint(issuer, value)) {
        throw new FailedPreconditionError(`discovery_failed: ${member} is not an https URL`);
      }
      metadata[name] = value;
    }
    return metadata;
  }
}

function metadataUrls(issuer: string): [what: string, url: string][] {
  const trimmed = issuer.replace(/\/+$/, "");
  const url = new URL(trimmed);
  const path = url.pathname === "/" ? "" : url.pathname;
  return [
    ["OIDC discovery", `${trimmed}/.well-known/openid-configuration`],
    ["RFC 8414 metadata", `${url.origin}/.well-known/oauth-authorization-server${path}`],
  ];
}
