import { toBinary } from "@bufbuild/protobuf";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { Decider, Decision } from "../decision/decision.js";
import type { TraceHeaders } from "../tracing/tracing.js";
import { decisionRequestOf, traceHeadersOf, type CheckRequestFields } from "./check-request.js";
import { checkResponseOf } from "./check-response.js";
import { checkResponseEncoder } from "./check-response-encoder.js";
import type { EnvoySettings } from "./envoy-settings.js";
import { carriesUpstreamToken, upstreamTokenSwap, type CheckCaller, type UpstreamTokenSwapDeps } from "./upstream-token-swap.js";
import { Authorization, CheckResponseSchema, type CheckRequest, type CheckResponse } from "../../gen/envoy/service/auth/v3/external_auth_pb.js";

/**
 * `headers` are the Check call's own (gRPC metadata), a trace parent's
 * second source; `signal` fires at the call's deadline or when Envoy gives
 * up; `caller` is the Check caller's verified certificate, which decides
 * whether an answer may carry an upstream token.
 */
export type EnvoyCheck = (request: CheckRequest, headers?: TraceHeaders, signal?: AbortSignal, caller?: CheckCaller) => Promise<CheckResponse>;
/** The same Check answering the CheckResponse's bytes, for the lean gRPC path (its request read by `decodeCheckRequest`). */
export type EncodedEnvoyCheck = (request: CheckRequestFields, headers?: TraceHeaders, signal?: AbortSignal, caller?: CheckCaller) => Promise<Uint8Array>;

export interface EnvoyCheckDeps {
  engine: Decider;
  settings: EnvoySettings;
  /** Tracing is on: look for the trace parent. Decided at wiring, so an untraced Check reads no header for it. */
  traced?: boolean;
  /** Upstream tokens for rules with `upstream_token`; absent: such a rule denies `upstream_token_not_permitted`. */
  upstreamTokens?: UpstreamTokenSwapDeps;
}

/**
 * Envoy's ext_authz Check on the shared decision engine. An engine that
 * cannot decide throws UnavailableError, which fails the call itself
 * (gRPC UNAVAILABLE), or DeadlineExceededError past the call's deadline
 * (gRPC DEADLINE_EXCEEDED): Envoy then follows its failure_mode_allow /
 * status_on_error path, whereas any CheckResponse would be a decision.
 */
export function createEnvoyCheck(deps: EnvoyCheckDeps): EnvoyCheck {
  const decide = checkDecider(deps);
  const swap = upstreamTokenSwap(deps.upstreamTokens);
  return async (request, headers, signal, caller) => {
    const { decision, upstreamAuthorization } = await swap(await decide(request, headers, signal), caller);
    return checkResponseOf(decision, deps.settings, upstreamAuthorization);
  };
}

/**
 * The same Check, its answer encoded by `checkResponseEncoder`: the same
 * message, cheaper to write. An answer carrying an upstream token (its
 * header differs per request) takes the general encoding instead.
 */
export function createEncodedEnvoyCheck(deps: EnvoyCheckDeps): EncodedEnvoyCheck {
  const decide = checkDecider(deps);
  const encode = checkResponseEncoder(deps.settings);
  const swap = upstreamTokenSwap(deps.upstreamTokens);
  return async (request, headers, signal, caller) => {
    const decided = await decide(request, headers, signal);
    // Most answers swap nothing: they are encoded without a trip through the swap.
    if (!carriesUpstreamToken(decided)) return encode(decided);
    const { decision, upstreamAuthorization } = await swap(decided, caller);
    return upstreamAuthorization === undefined ? encode(decision) : toBinary(CheckResponseSchema, checkResponseOf(decision, deps.settings, upstreamAuthorization));
  };
}

function checkDecider({ engine, traced = false }: EnvoyCheckDeps): (request: CheckRequestFields, headers?: TraceHeaders, signal?: AbortSignal) => Promise<Decision> {
  return (request, headers, signal) => {
    const asked = decisionRequestOf(request);
    if (signal !== undefined) asked.signal = signal;
    return engine.decide(asked, traced ? traceHeadersOf(request, headers) : undefined);
  };
}

/** The same Check for connect-node: Connect, gRPC-Web and JSON clients, and gRPC the lean path does not take. */
export function createEnvoyAuthorizationService(
  check: EnvoyCheck,
  callerOf: (context: HandlerContext) => CheckCaller | undefined = () => undefined,
): ServiceImpl<typeof Authorization> {
  return { check: (request, context) => check(request, context.requestHeader, context.signal, callerOf(context)) };
}
