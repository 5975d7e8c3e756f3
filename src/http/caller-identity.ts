import type { Interceptor } from "@connectrpc/connect";
import { InvalidArgumentError, PermissionDeniedError } from "../errors.js";
import type { ReasonCode } from "../model/reason-codes.js";
import { closestName } from "../settings-schema/schema-check.js";
import type { CallerIdentityRule } from "./caller-identity-settings.js";
import { peerIdentityKey, type PeerIdentity } from "./peer-identity.js";

/**
 * Services every client that passed the TLS handshake may call whatever the
 * rules say: probes (Kubernetes, Envoy) and tools (`grpcurl`, `buf curl`)
 * use them, and they tell nothing secret.
 */
export const ALWAYS_OPEN_SERVICES: readonly string[] = [
  "grpc.health.v1.Health",
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
];

const REFUSED: ReasonCode = "caller_not_allowed";

/**
 * Admits a call to `service` from a connection with this peer identity, or
 * throws PermissionDenied `caller_not_allowed`.
 */
export type CallerIdentityGate = (service: string, peer: PeerIdentity | undefined) => void;

export interface CallerIdentityGateOptions {
  /** The services the server routes: a rule naming another one is a typo, refused at start. */
  services: readonly string[];
  /** Hears every refusal (metric and log); `service` is one of `services`. */
  refused(service: string, peer: PeerIdentity | undefined): void;
}

/**
 * The caller-identity rules as a gate. Fail closed: a service that no rule
 * names is refused to every certificate (except ALWAYS_OPEN_SERVICES), so a
 * service added to the server later is not open to every certificate the
 * client CA ever signed until an operator says who may call it.
 */
export function callerIdentityGate(rules: readonly CallerIdentityRule[], options: CallerIdentityGateOptions): CallerIdentityGate {
  const allowed = new Map<string, Set<string>>();
  rules.forEach((rule, index) =>
    rule.services.forEach((service, at) => {
      if (!options.services.includes(service)) {
        const suggestion = closestName(service, options.services);
        throw new InvalidArgumentError(
          `caller_identity.rules[${index}].services[${at}]`,
          `unknown service "${service}"${suggestion === undefined ? "" : ` (did you mean ${suggestion}?)`}`,
        );
      }
      const identities = allowed.get(service) ?? new Set<string>();
      for (const identity of rule.identities) identities.add(identity);
      allowed.set(service, identities);
    }),
  );
  const open = new Set(ALWAYS_OPEN_SERVICES);
  return (service, peer) => {
    if (open.has(service)) return;
    const identities = allowed.get(service);
    if (identities !== undefined && peer !== undefined && (identities.has("*") || peer.names.some((name) => identities.has(name)))) return;
    options.refused(service, peer);
    throw new PermissionDeniedError(`${REFUSED}: this client certificate may not call ${service}`);
  };
}

/** The gate in front of every Connect service; the peer identity comes from the call's context values. */
export function callerIdentityInterceptor(gate: CallerIdentityGate): Interceptor {
  return (next) => async (request) => {
    gate(request.service.typeName, request.contextValues.get(peerIdentityKey));
    return next(request);
  };
}
