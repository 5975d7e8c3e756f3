import type { ServiceImpl } from "@connectrpc/connect";
import type { Decider } from "../decision/decision.js";
import type { TraceHeaders } from "../tracing/tracing.js";
import { decisionRequestOf, traceHeadersOf } from "./check-request.js";
import { checkResponseOf } from "./check-response.js";
import type { EnvoySettings } from "./envoy-settings.js";
import { Authorization, type CheckRequest, type CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";

/** `headers` are the Check call's own (gRPC metadata), a trace parent's second source. */
export type EnvoyCheck = (request: CheckRequest, headers?: TraceHeaders) => Promise<CheckResponse>;

/**
 * Envoy's ext_authz Check on the shared decision engine. An engine that
 * cannot decide throws UnavailableError, which fails the call itself
 * (gRPC UNAVAILABLE): Envoy then follows its failure_mode_allow /
 * status_on_error path, whereas any CheckResponse would be a decision.
 */
export function createEnvoyCheck(deps: {
  engine: Decider;
  settings: EnvoySettings;
  /** Tracing is on: look for the trace parent. Decided at wiring, so an untraced Check reads no header for it. */
  traced?: boolean;
}): EnvoyCheck {
  const { engine, settings, traced = false } = deps;
  return async (request, headers) =>
    checkResponseOf(await engine.decide(decisionRequestOf(request), traced ? traceHeadersOf(request, headers) : undefined), settings);
}

/** The same Check for connect-node: Connect, gRPC-Web and JSON clients, and gRPC the lean path does not take. */
export function createEnvoyAuthorizationService(check: EnvoyCheck): ServiceImpl<typeof Authorization> {
  return { check: (request, context) => check(request, context.requestHeader) };
}
