import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { createAuthorizationService, createAuthorize } from "./api/authorization-service.js";
import { createDcrService } from "./api/dcr-service.js";
import { createOAuthFlowService } from "./api/oauth-flow-service.js";
import { errorMappingInterceptor, toConnectError } from "./api/error-mapping.js";
import { createTokenAdminService } from "./api/token-admin-service.js";
import { bootstrapRootToken } from "./admin/bootstrap.js";
import { configRootTokens } from "./admin/config-tokens.js";
import { createSigningKeyAdmin } from "./admin/signing-key-admin.js";
import { createTeamAdmin } from "./admin/team-admin.js";
import { teamTokenMinter } from "./admin/team-token-mint.js";
import { createTokenAdmin, TOKEN_ADMINISTRATOR } from "./admin/token-admin.js";
import { importTokenFile } from "./admin/token-file-import.js";
import { systemClock, type Clock } from "./clock.js";
import type { Config } from "./config.js";
import { Authenticator } from "./credentials/authenticator.js";
import { jwksKeySourcePool } from "./credentials/jwt/jwks-key-source.js";
import { jwtCredentials } from "./credentials/jwt/jwt-credentials.js";
import { explainingMalformedJwt } from "./credentials/jwt/malformed-jwt.js";
import { JtiLedger } from "./credentials/jti-ledger.js";
import { LastUsedTracker } from "./credentials/last-used-tracker.js";
import { SecretHasher } from "./credentials/opaque-token.js";
import { opaqueVerifier } from "./credentials/opaque-verifier.js";
import { callerGate } from "./decision/caller-gate.js";
import { DecisionEngine } from "./decision/engine.js";
import { createEnvoyAuthorizationService, createEnvoyCheck } from "./envoy/envoy-check.js";
import { withSpecGrpcMessage } from "./http/grpc-message-trailer.js";
import { grpcUnaryRoute, withGrpcUnary } from "./http/grpc-unary.js";
import { listen, type Listener } from "./http/listener.js";
import { withJwks } from "./http/jwks-route.js";
import { withProbes } from "./http/probes.js";
import { withProtectedResource } from "./http/protected-resource.js";
import { createObservability } from "./observability/observability.js";
import { createDcrRegistry } from "./oauth/dcr-registry.js";
import { jwksIdTokenVerifier } from "./oauth/id-token-verifier.js";
import { createOAuthFlow } from "./oauth/oauth-flow.js";
import { envelopeSealer, plainSealer } from "./oauth/secret-sealer.js";
import { upstreamAllowList } from "./oauth/upstream-allow-list.js";
import { Policy } from "./policy/policy.js";
import { openStore } from "./store/open-store.js";
import { upstreamAddressPolicy } from "./upstream/address-policy.js";
import { guardedDispatcher } from "./upstream/guarded-dispatcher.js";
import { IssuerDiscovery } from "./upstream/issuer-discovery.js";
import { Authorization as EnvoyAuthorization } from "../gen/envoy/service/auth/v3/external_auth_pb.js";
import { AuthorizationService } from "../gen/portcullis/v1/authorization_pb.js";
import { DcrService } from "../gen/portcullis/v1/dcr_pb.js";
import { OAuthFlowService } from "../gen/portcullis/v1/oauth_flow_pb.js";
import { TokenAdminService } from "../gen/portcullis/v1/token_admin_pb.js";

export interface RunningPortcullis {
  readonly listener: Listener;
  /**
   * Settles when the server can no longer serve safely (the embedded store
   * lost its data-dir lock and refuses writes); the owner should stop it.
   */
  readonly failure: Promise<Error>;
  /** Stops accepting, finishes in-flight calls, closes the store. */
  stop(): Promise<void>;
}

/** Largest request message accepted, on the lean gRPC path and by the Connect handlers. */
const READ_MAX_BYTES = 64 * 1024;
/**
 * Envoy's CheckRequest carries every request header (up to Envoy's
 * max_request_headers_kb, 60 KiB by default, raisable) and, with
 * with_request_body, part of the body: a larger limit for Check over gRPC.
 */
const ENVOY_CHECK_READ_MAX_BYTES = 1024 * 1024;

/** Wires configuration into a running server. */
export async function startPortcullis(config: Config, log: Logger, clock: Clock = systemClock): Promise<RunningPortcullis> {
  for (const warning of config.warnings) log.warn(`config: ${warning}`);
  const policy = new Policy(config.policy);
  const observability = createObservability(
    { metricsEnabled: config.metricsEnabled, adminServices: [TokenAdminService] },
    log,
  );
  let reportFailure!: (error: Error) => void;
  const failure = new Promise<Error>((settle) => (reportFailure = settle));
  const store = observability.store(await openStore(config, reportFailure, (message) => log.warn(message)));
  if (store.backend === "embedded") {
    log.info({ dataDir: config.dataDir }, "store: embedded (data file); serves one replica only");
  } else {
    log.info({ prefix: config.redis?.prefix }, "store: redis; shared by every replica");
  }
  try {
    const hasher = new SecretHasher(config.tokenPepper);
    const configTokens = configRootTokens(config.rootTokens, hasher, clock());
    if (config.tokenFile !== undefined) {
      await importTokenFile({ path: config.tokenFile, tokens: store.tokens, hasher, clock, log });
    }
    if (configTokens.size === 0) {
      await bootstrapRootToken({ tokens: store.tokens, hasher, clock, dataDir: config.dataDir, log });
    }
    const lastUsed = new LastUsedTracker(
      (id, at) => store.tokens.touch(id, at),
      clock,
      config.lastUsedIntervalMs,
      (error) => log.warn({ err: error }, "could not record token use"),
    );
    const ledger = new JtiLedger(store.jti, clock);
    const authenticator = new Authenticator([
      await jwtCredentials({ config: config.jwt, store, ledger, clock, log }),
      // Takes every bearer the JWT verifier leaves, so it stays last.
      explainingMalformedJwt(opaqueVerifier({ tokens: store.tokens, configTokens, hasher, clock, lastUsed })),
    ]);
    if (config.devAllowAll) {
      log.warn("DEV MODE: PORTCULLIS_DEV_ALLOW_ALL is set, every request is ALLOWED. Never use this in production.");
    }
    const engine = new DecisionEngine(policy, authenticator, { allowAll: config.devAllowAll, singleUse: ledger });
    const adminCaller = callerGate(observability.decisions(engine, "token_admin"));
    const requireRoot = (authorization: string) => adminCaller(authorization, TOKEN_ADMINISTRATOR);
    const admin = {
      tokens: createTokenAdmin({
        requireRoot,
        mintTeamToken: teamTokenMinter({
          signingKeys: store.signingKeys,
          teams: store.teams,
          tokens: store.tokens,
          config: config.jwt.teamTokens,
          clock,
        }),
        tokens: store.tokens,
        teams: store.teams,
        configTokens,
        hasher,
        clock,
      }),
      signingKeys: createSigningKeyAdmin({ requireRoot, signingKeys: store.signingKeys, clock }),
      teams: createTeamAdmin({ requireRoot, teams: store.teams, clock }),
    };
    const sealer = config.dcr.encryptionKey === undefined ? plainSealer : envelopeSealer(config.dcr.encryptionKey);
    const dcr = createDcrRegistry({ store: store.dcr, clock, sealer, settings: config.dcr });
    const http = {
      timeoutMs: config.oauth.httpTimeoutMs,
      maxBytes: config.oauth.httpMaxBytes,
      dispatcher: guardedDispatcher(upstreamAddressPolicy(config.oauth.devAllowPrivateUpstreams)),
    };
    const discovery = new IssuerDiscovery(http, config.oauth.discoveryCacheMs, clock);
    const flow = createOAuthFlow({
      dcr,
      states: store.oauthStates,
      discovery,
      allowList: upstreamAllowList(config.oauth.allowedIssuers, discovery),
      idTokens: jwksIdTokenVerifier(jwksKeySourcePool({ fetchLimits: http, clock, log }), clock, config.oauth.idTokenLeewayS),
      sealer,
      clock,
      http,
      stateTtlMs: config.oauth.stateTtlMs,
    });
    const authorize = createAuthorize(observability.decisions(engine, "authorize"));
    const check = createEnvoyCheck({ engine: observability.decisions(engine, "envoy_check"), settings: config.envoy });

    const connectHandler = connectNodeAdapter({
      readMaxBytes: READ_MAX_BYTES,
      interceptors: [...observability.interceptors, errorMappingInterceptor(log)],
      routes(router) {
        router.service(
          AuthorizationService,
          createAuthorizationService({
            authorize,
            caller: callerGate(observability.decisions(engine, "resolve_libraries")),
          }),
        );
        router.service(EnvoyAuthorization, createEnvoyAuthorizationService(check));
        router.service(TokenAdminService, createTokenAdminService(admin));
        router.service(DcrService, createDcrService({ dcr, caller: callerGate(observability.decisions(engine, "dcr")) }));
        router.service(OAuthFlowService, createOAuthFlowService({ flow, caller: callerGate(observability.decisions(engine, "oauth_flow")) }));
      },
    });
    const publishedKeys = async () =>
      (await store.signingKeys.list()).flatMap((key) => (key.state !== "retired" && key.publicJwk ? [key.publicJwk] : []));
    // The per-request decision methods take the lean path for gRPC over HTTP/2, checked first;
    // connect-node serves everything else on these methods and the rest of the API.
    const handler = withGrpcUnary(
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
      withProbes(
        () => store.ping(),
        observability.routes(withJwks(publishedKeys, withProtectedResource(config.protectedResource, withSpecGrpcMessage(connectHandler)))),
      ),
    );
    const listener = await listen(config.listen.host, config.listen.port, handler, config.http);
    log.info({ address: `${listener.address.address}:${listener.address.port}` }, "portcullis listening (h2c and HTTP/1.1)");
    return {
      listener,
      failure,
      async stop() {
        await listener.close(config.shutdownGraceMs);
        await http.dispatcher.destroy();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
