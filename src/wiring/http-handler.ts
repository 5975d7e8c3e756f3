import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { auditInterceptor } from "../api/audit-interceptor.js";
import { createAuthorizationService, createAuthorize, createEncodedAuthorize } from "../api/authorization-service.js";
import { createDcrService } from "../api/dcr-service.js";
import { errorMappingInterceptor, toConnectError } from "../api/error-mapping.js";
import { createHealthService } from "../api/health-service.js";
import { createOAuthFlowService } from "../api/oauth-flow-service.js";
import { createReadinessMonitor } from "../api/readiness-monitor.js";
import { createReflectionIndex } from "../api/reflection-index.js";
import { createReflectionServices } from "../api/reflection-service.js";
import { requestIdInterceptor, requestIdValues } from "../api/request-id.js";
import { createOwnerService } from "../api/owner-service.js";
import { createTokenAdminService } from "../api/token-admin-service.js";
import { createUpstreamTokenService } from "../api/upstream-token-service.js";
import type { Config } from "../config.js";
import { callerGate } from "../decision/caller-gate.js";
import type { Decider } from "../decision/decision.js";
import { decodeCheckRequest } from "../envoy/check-request-decoder.js";
import { createEnvoyAuthorizationService, type EncodedEnvoyCheck, type EnvoyCheck } from "../envoy/envoy-check.js";
import { withSpecGrpcMessage } from "../http/grpc-message-trailer.js";
import { grpcUnaryEncodedRoute, leanGrpcStreams } from "../http/grpc-unary.js";
import { jwksRoute } from "../http/jwks-route.js";
import type { HttpHandlers } from "../http/listener.js";
import { probeRoute } from "../http/probes.js";
import { protectedResourceRoutes } from "../http/protected-resource.js";
import { routeTable } from "../http/route-table.js";
import type { DecisionTransport } from "../observability/decision-recorder.js";
import type { Observability } from "../observability/observability.js";
import type { DcrRegistry } from "../oauth/dcr-registry.js";
import type { OAuthFlow } from "../oauth/oauth-flow.js";
import type { UpstreamTokenVault } from "../oauth/upstream-token-vault.js";
import type { Store } from "../store/store.js";
import type { Administration } from "./administration.js";
import { callerIdentityGate, callerIdentityInterceptor, type CallerIdentityGate } from "../http/caller-identity.js";
import { peerIdentityKey, peerIdentityReader, type PeerIdentity } from "../http/peer-identity.js";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { Health } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionV1Alpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import { OAuthFlowService } from "../../gen/portcullis/v1/oauth_flow_pb.js";
import { OwnerService } from "../../gen/portcullis/v1/owners_pb.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";
import { UpstreamTokenService } from "../../gen/portcullis/v1/upstream_tokens_pb.js";

/** Largest request message accepted, on the lean gRPC path and by the Connect handlers. */
const READ_MAX_BYTES = 64 * 1024;
/**
 * Envoy's CheckRequest carries every request header (up to Envoy's
 * max_request_headers_kb, 60 KiB by default, raisable) and, with
 * with_request_body, part of the body: a larger limit for Check over gRPC.
 */
const ENVOY_CHECK_READ_MAX_BYTES = 1024 * 1024;
/**
 * How often an open health Watch re-checks readiness (one store ping for
 * all watchers), and how long a Check may answer from the last result.
 */
const HEALTH_POLL_MS = 1000;
/**
 * Portcullis's own services: each reported by the health service, listed by
 * reflection, and nameable by caller-identity rules.
 */
const API_SERVICES = [AuthorizationService, EnvoyAuthorization, TokenAdminService, OwnerService, DcrService, OAuthFlowService, UpstreamTokenService];
const API_SERVICE_NAMES = API_SERVICES.map((service) => service.typeName);

export interface HttpParts {
  config: Config;
  /** The engine as one transport asks it, recorded under that transport's name. */
  decisions(transport: DecisionTransport): Decider;
  /** Envoy's Check with the configuration in place (engine and envoy settings of one configuration). */
  check: EnvoyCheck;
  /** The same Check answering encoded bytes, for the lean gRPC path. */
  encodedCheck: EncodedEnvoyCheck;
  /** The hash of the configuration in place, for /readyz. */
  configHash(): string;
  administration: Administration;
  oauth: { dcr: DcrRegistry; flow: OAuthFlow; vault?: UpstreamTokenVault };
  store: Store;
  observability: Observability;
  log: Logger;
  /** Aborted when the server begins to stop: health turns NOT_SERVING and its Watch streams end. */
  stopping: AbortSignal;
}

/** The RPC services and the public HTTP resources: the lean gRPC path on HTTP/2 streams, then one route table. */
export function wireHttpHandler(parts: HttpParts): HttpHandlers {
  const { config, decisions, observability, log } = parts;
  const authorizeEngine = decisions("authorize");
  const authorize = createAuthorize(authorizeEngine);
  const check = parts.check;
  // Only mTLS verifies a peer; without it there is nothing to read per call.
  const peerOf = config.tls?.clientCaFile === undefined ? undefined : peerIdentityReader();
  const gate = peerOf && config.callerIdentity && wireCallerIdentity(config.callerIdentity, observability, log);
  // One readiness for /readyz and grpc.health.v1, so the two never disagree.
  const ready = () => parts.store.ping();
  const health = createHealthService({
    services: API_SERVICE_NAMES,
    readiness: createReadinessMonitor(ready, { intervalMs: HEALTH_POLL_MS, cacheMs: HEALTH_POLL_MS }),
    stopping: parts.stopping,
  });
  const reflection = config.reflection
    ? createReflectionServices(createReflectionIndex([...API_SERVICES, Health, ServerReflection, ServerReflectionV1Alpha]))
    : undefined;
  const connect = connectNodeAdapter({
    readMaxBytes: READ_MAX_BYTES,
    contextValues: (request) => {
      const values = requestIdValues(request);
      return peerOf ? values.set(peerIdentityKey, peerOf.ofRequest(request)) : values;
    },
    interceptors: [
      requestIdInterceptor(),
      ...observability.interceptors,
      auditInterceptor(observability.audit, observability.callers),
      // The error mapping goes outside the gate, so its refusal reaches the caller as PermissionDenied.
      errorMappingInterceptor(log),
      ...(gate ? [callerIdentityInterceptor(gate)] : []),
    ],
    routes(router) {
      router.service(
        AuthorizationService,
        createAuthorizationService({ authorize, caller: callerGate(decisions("resolve_libraries")) }),
      );
      router.service(
        EnvoyAuthorization,
        createEnvoyAuthorizationService(check, (context) => context.values.get(peerIdentityKey)),
      );
      router.service(TokenAdminService, createTokenAdminService(parts.administration));
      router.service(OwnerService, createOwnerService(parts.administration.owners));
      router.service(DcrService, createDcrService({ dcr: parts.oauth.dcr, caller: callerGate(decisions("dcr")) }));
      router.service(OAuthFlowService, createOAuthFlowService({ flow: parts.oauth.flow, caller: callerGate(decisions("oauth_flow")) }));
      router.service(
        UpstreamTokenService,
        createUpstreamTokenService({ vault: parts.oauth.vault, caller: callerGate(decisions("upstream_tokens")) }),
      );
      router.service(Health, health);
      if (reflection !== undefined) {
        router.service(ServerReflection, reflection.v1);
        router.service(ServerReflectionV1Alpha, reflection.v1alpha);
      }
    },
  });
  const publishedKeys = async () =>
    (await parts.store.signingKeys.list()).flatMap((key) => (key.state !== "retired" && key.publicJwk ? [key.publicJwk] : []));

  return {
    // The per-request decision methods over gRPC on HTTP/2, on the raw stream; connect-node serves every other way of calling them.
    stream: leanGrpcStreams(
      [
        // The caller's certificate (peerOf below) decides whether a Check answer may carry an upstream token.
        grpcUnaryEncodedRoute(EnvoyAuthorization.method.check, parts.encodedCheck, {
          readMaxBytes: ENVOY_CHECK_READ_MAX_BYTES,
          decode: decodeCheckRequest,
        }),
        grpcUnaryEncodedRoute(AuthorizationService.method.authorize, createEncodedAuthorize(authorizeEngine)),
      ],
      {
        readMaxBytes: READ_MAX_BYTES,
        bufferMaxBytes: config.http.requestBufferMaxBytes,
        bufferMaxBytesPerConnection: config.http.requestBufferMaxBytesPerConnection,
        toConnectError: (error) => toConnectError(error, log),
        admit: gate && peerOf && ((stream, service) => gate(service, stream.session && peerOf.ofSession(stream.session))),
        peerOf: peerOf && ((session) => peerOf.ofSession(session)),
      },
    ),
    request: routeTable(
      [probeRoute(ready, parts.configHash), ...observability.routes, jwksRoute(publishedKeys), ...protectedResourceRoutes(config.protectedResource)],
      // Everything else is the Connect, gRPC and gRPC-Web API.
      withSpecGrpcMessage(connect),
    ),
  };
}

function wireCallerIdentity(rules: NonNullable<Config["callerIdentity"]>, observability: Observability, log: Logger): CallerIdentityGate {
  return callerIdentityGate(rules, {
    services: API_SERVICE_NAMES,
    refused(service: string, peer: PeerIdentity | undefined) {
      observability.callerRefused(service);
      log.info({ service, peer: peer?.names ?? [], fingerprint256: peer?.fingerprint256 }, "caller identity: call refused (caller_not_allowed)");
    },
  });
}
