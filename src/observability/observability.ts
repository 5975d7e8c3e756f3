import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Decider } from "../decision/decision.js";
import { metricsRoute } from "../http/metrics-route.js";
import type { Route } from "../http/route-table.js";
import type { Store } from "../store/store.js";
import { adminCallsInterceptor } from "./admin-calls-interceptor.js";
import { auditLog, type AuditLog } from "./audit-log.js";
import { callerScope, type CallerScope } from "./caller-scope.js";
import { decisionRecorder, type DecisionLogPolicy, type DecisionTransport } from "./decision-recorder.js";
import { instrumentedEngine } from "./instrumented-engine.js";
import { instrumentedStore } from "./instrumented-store.js";
import type { DecisionLogSettings } from "./log-settings.js";
import { createMetrics } from "./metrics.js";
import { principalView } from "./principal-view.js";

/**
 * Metrics, decision logs and the audit log, applied as decorators around the
 * parts the server is wired from, so those parts stay free of them. Decision
 * logs are written whether or not metrics are on.
 */
export interface Observability {
  store(store: Store): Store;
  decisions(engine: Decider, transport: DecisionTransport): Decider;
  /** Goes first in the Connect interceptor list. */
  readonly interceptors: Interceptor[];
  /** GET /metrics, when metrics are on. */
  readonly routes: Route[];
  /** Audit lines, whatever the log level. */
  readonly audit: AuditLog;
  /** Where the caller of an audited call is noted; every caller decision passes through it. */
  readonly callers: CallerScope;
}

export interface ObservabilitySettings {
  metricsEnabled: boolean;
  adminServices: readonly DescService[];
  decisionLog: DecisionLogSettings;
}

export function createObservability(settings: ObservabilitySettings, log: Logger): Observability {
  const metrics = settings.metricsEnabled ? createMetrics() : undefined;
  const decisionLog = log.child({ log: "decision" });
  const { subjects, subjectHashKey, allowSampleRate } = settings.decisionLog;
  const policy: DecisionLogPolicy = {
    sampleAllow: () => allowSampleRate > 0 && Math.random() < allowSampleRate,
    principal: principalView(subjects, subjectHashKey ?? randomBytes(32)),
  };
  const callers = callerScope();
  return {
    store: (store) => (metrics ? instrumentedStore(store, metrics) : store),
    decisions: (engine, transport) => callers.notingCallers(instrumentedEngine(engine, decisionRecorder(transport, metrics, decisionLog, policy))),
    interceptors: metrics ? [adminCallsInterceptor(metrics, settings.adminServices)] : [],
    routes: metrics ? [metricsRoute(metrics.registry)] : [],
    audit: auditLog(log),
    callers,
  };
}
