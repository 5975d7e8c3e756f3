import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { auditInterceptor } from "../api/audit-interceptor.js";
import { createAuthorizationService, createAuthorize } from "../api/authorization-service.js";
import { createDcrService } from "../api/dcr-service.js";
import { errorMappingInterceptor, toConnectError } from "../api/error-mapping.js";
import { createOAuthFlowService } from "../api/oauth-flow-service.js";
import { requestIdInterceptor, requestIdValues } from "../api/request-id.js";
import { createTokenAdminService } from "../api/token-admin-service.js";
import type { Config } from "../config.js";
import { callerGate } from "../decision/caller-gate.js";
import type { Decider } from "../decision/decision.js";
import { createEnvoyAuthorizationService, createEnvoyCheck } from "../envoy/envoy-check.js";
import { withSpecGrpcMessage } from "../http/grpc-message-trailer.js";
import { grpcUnaryRoute, leanGrpcRoute } from "../http/grpc-unary.js";
import { jwksRoute } from "../http/jwks-route.js";
import type { RequestHandler } from "../http/listener.js";
import { probeRoute } from "../http/probes.js";
import { protectedResourceRoutes } from "../http/protected-resource.js";
import { routeTable } from "../http/route-table.js";
import type { DecisionTransport } from "../observability/decision-recorder.js";
import type { Observability } from "../observability/observability.js";
import type { DcrRegistry } from "../oauth/dcr-registry.js";
import type { OAuthFlow } from "../oauth/oauth-flow.js";
import type { Store } from "../store/store.js";
import type { Administration } from "./administration.js";
import { Authorization as EnvoyAuthorization } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService } from "../../gen/portcullis/v1/authorization_pb.js";
import { DcrService } from "../../gen/portcullis/v1/dcr_pb.js";
import { OAuthFlowService } from "../../gen/portcullis/v1/oauth_flow_pb.js";
import { TokenAdminService } from "../../gen/portcullis/v1/token_admin_pb.js";

/** Largest request message accepted, on the lean gRPC path and by the Connect handlers. */
const READ_MAX_BYTES = 64 * 1024;
/**
 * Envoy's CheckRequest carries every request header (up to Envoy's
 * max_request_headers_kb, 60 KiB by default, raisable) and, with
 * with_request_body, part of the body: a larger limit for Check over gRPC.
 */
const ENVOY_CHECK_READ_MAX_BYTES = 1024 * 1024;

export interface HttpParts {
  config: Config;
  /** The engine as one transport asks it, recorded under that transport's name. */
  decisions(transport: DecisionTransport): Decider;
  administration: Administration;
  oauth: { dcr: DcrRegistry; flow: OAuthFlow };
  store: Store;
  observability: Observability;
  log: Logger;
}

/** The RPC services and the public HTTP resources, as one route table. */
export function wireHttpHandler(parts: HttpParts): RequestHandler {
  const { config, decisions, observability, log } = parts;
  const authorize = createAuthorize(decisions("authorize"));
  const check = createEnvoyCheck({ engine: decisions("envoy_check"), settings: config.envoy });
  const connect = connectNodeAdapter({
    readMaxBytes: READ_MAX_BYTES,
    contextValues: requestIdValues,
    interceptors: [
      requestIdInterceptor(),
      ...observability.interceptors,
      auditInterceptor(observability.audit, observability.callers),
      errorMappingInterceptor(log),
    ],
    routes(router) {
      router.service(
        AuthorizationService,
        createAuthorizationService({ authorize, caller: callerGate(decisions("resolve_libraries")) }),
      );
      router.service(EnvoyAuthorization, createEnvoyAuthorizationService(check));
      router.service(TokenAdminService, createTokenAdminService(parts.administration));
      router.service(DcrService, createDcrService({ dcr: parts.oauth.dcr, caller: callerGate(decisions("dcr")) }));
      router.service(OAuthFlowService, createOAuthFlowService({ flow: parts.oauth.flow, caller: callerGate(decisions("oauth_flow")) }));
    },
  });
  const publishedKeys = async () =>
    (await parts.store.signingKeys.list()).flatMap((key) => (key.state !== "retired" && key.publicJwk ? [key.publicJwk] : []));

  return routeTable(
    [
      // The per-request decision methods over gRPC on HTTP/2, first; connect-node serves every other way of calling them.
      leanGrpcRoute(
        [
          grpcUnaryRoute(EnvoyAuthorization.method.check, check, { readMaxBytes: ENVOY_CHECK_READ_MAX_BYTES }),
          grpcUnaryRoute(AuthorizationService.method.authorize, authorize),
        ],
        {
          readMaxBytes: READ_MAX_BYTES,
          bufferMaxBytes: config.http.requestBufferMaxBytes,
          bufferMaxBytesPerConnection: config.http.requestBufferMaxBytesPerConnection,
          toConnectError: (error) => toConnectError(error, log),
        },
      ),
      probeRoute(() => parts.store.ping()),
      ...observability.routes,
      jwksRoute(publishedKeys),
      ...protectedResourceRoutes(config.protectedResource),
    ],
    // Everything else is the Connect, gRPC and gRPC-Web API.
    withSpecGrpcMessage(connect),
  );
}
