import type { Identity } from "../model/identity.js";
import type { ConditionVariables } from "../policy/condition.js";
import type { Resource } from "../policy/resource.js";
import type { DecisionRequest } from "./decision.js";

/**
 * The headers a condition may not read: the credential is judged by the
 * identity phase, never matched as text in the policy; pseudo-headers would
 * be a second reading of the method, path and host the request already gives.
 */
function hiddenHeader(name: string): boolean {
  return name === "authorization" || name.startsWith(":");
}

/**
 * The activation of a rule condition, built from what the transport copied
 * into the request, the resource as the engine read it, and, after the
 * identity phase, the verified identity.
 */
export function conditionVariables(request: DecisionRequest, resource: Resource, identity: Identity | undefined): ConditionVariables {
  const headers = new Map<string, string>();
  for (const [name, value] of request.headers ?? []) {
    const lower = name.toLowerCase();
    if (!hiddenHeader(lower)) headers.set(lower, value);
  }
  const host = resource.host !== undefined && "name" in resource.host ? resource.host.name : "";
  const variables: ConditionVariables = {
    request: {
      method: resource.kind === "http" ? resource.method : "",
      path: resource.kind === "http" ? resource.path : "",
      host,
      tool: resource.kind === "tool" ? resource.name : "",
      headers,
      source_address: request.sourceAddress ?? "",
    },
  };
  if (identity === undefined) return variables;
  variables.principal = {
    subject: identity.subject,
    owner: identity.owner ?? "",
    scopes: identity.scopes,
    libraries: identity.libraries,
    credential_type: identity.credentialType,
    issuer: identity.issuerAlias ?? "",
  };
  variables.claims = identity.claims ?? {};
  return variables;
}
