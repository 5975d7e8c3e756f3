import { InvalidArgumentError, PermissionDeniedError } from "../errors.js";
import type { IssuerDiscovery } from "../upstream/issuer-discovery.js";
import { isUpstreamIssuer } from "../upstream/upstream-url.js";
import { upstreamCall } from "./upstream-failure.js";

/** An issuer as the allow-list compares it: byte for byte, less one trailing slash. */
export function comparableIssuer(issuer: string): string {
  return issuer.endsWith("/") ? issuer.slice(0, -1) : issuer;
}

const NOT_ALLOWED = "upstream_issuer_not_allowed: this upstream issuer is not among the deployment's allowed issuers";

/**
 * Which upstreams a caller without a root credential may start flows
 * against: the operator's list. The refusals never echo the issuer and come
 * before any request to it, so they tell nothing about the network.
 */
export function upstreamAllowList(allowed: readonly string[], discovery: IssuerDiscovery) {
  const issuers = new Set(allowed.map(comparableIssuer));
  return {
    /** `issuer` ("" when none was named) must be on the list. */
    requireIssuer(issuer: string): void {
      if (issuer === "") throw new PermissionDeniedError(`${NOT_ALLOWED}; name it in upstream_issuer`);
      if (!issuers.has(comparableIssuer(issuer))) throw new PermissionDeniedError(NOT_ALLOWED);
    },

    /**
     * A DCR entry names its endpoints itself, and is written by others than
     * the operator (a dcr:write caller, ToolHive through the shared Redis):
     * its endpoints must be at the hosts the allowed issuer's own metadata
     * names for them.
     */
    async requireEndpointsOf(issuer: string, endpoints: { authorizationEndpoint: string; tokenEndpoint: string }): Promise<void> {
      this.requireIssuer(issuer);
      const metadata = await upstreamCall(() => discovery.metadata(issuer), { unusableAnswer: true });
      for (const name of ["authorizationEndpoint", "tokenEndpoint"] as const) {
        const published = metadata[name];
        if (published === undefined || new URL(published).origin !== new URL(endpoints[name]).origin) {
          throw new PermissionDeniedError(
            "dcr_endpoint_not_allowed: the DCR resolution's endpoints are not at the hosts its upstream issuer's metadata names",
          );
        }
      }
    },
  };
}

export type UpstreamAllowList = ReturnType<typeof upstreamAllowList>;
