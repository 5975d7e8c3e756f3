import type { ServiceImpl } from "@connectrpc/connect";
import type { Decider } from "../decision/decision.js";
import { decisionRequestOf } from "./check-request.js";
import { checkResponseOf } from "./check-response.js";
import type { EnvoySettings } from "./envoy-settings.js";
import { Authorization, type CheckRequest, type CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";

export type EnvoyCheck = (request: CheckRequest) => Promise<CheckResponse>;

/**
 * Envoy's ext_authz Check on the shared decision engine. An engine that
 * cannot decide throws UnavailableError, which fails the call itself
 * (gRPC UNAVAILABLE): Envoy then follows its failure_mode_allow /
 * status_on_error path, whereas any CheckResponse would be a decision.
 */
export function createEnvoyCheck(deps: { engine: Decider; settings: EnvoySettings }): EnvoyCheck {
  return async (request) => checkResponseOf(await deps.engine.decide(decisionRequestOf(request)), deps.settings);
}

/** The same Check for connect-node: Connect, gRPC-Web and JSON clients, and gRPC the lean path does not take. */
export function createEnvoyAuthorizationService(check: EnvoyCheck): ServiceImpl<typeof Authorization> {
  return { check: (request) => check(request) };
}
