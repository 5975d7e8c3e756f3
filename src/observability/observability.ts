import { randomBytes } from "node:crypto";
import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Decider } from "../decision/decision.js";
import { metricsRoute } from "../http/metrics-route.js";
import type { Route } from "../http/route-table.js";
import type { TlsReloadResult } from "../http/tls-reloader.js";
import type { Store } from "../store/store.js";
import type { Tracing } from "../tracing/tracing.js";
import { adminCallsInterceptor } from "./admin-calls-interceptor.js";
import { auditLog, type AuditLog } from "./audit-log.js";
import { callerScope, type CallerScope } from "./caller-scope.js";
import { decisionRecorder, type DecisionLogPolicy, type DecisionTransport } from "./decision-recorder.js";
import { instrumentedEngine } from "./instrumented-engine.js";
import { instrumentedStore } from "./instrumented-store.js";
import type { DecisionLogSettings } from "./log-settings.js";
import { createMetrics } from "./metrics.js";
import { principalView } from "./principal-view.js";
import { tracedEngine, type DecisionSpanName } from "./traced-engine.js";

/** The transports whose decisions are traced, with their span's name. */
const DECISION_SPANS: Partial<Record<DecisionTransport, DecisionSpanName>> = {
  authorize: "portcullis.authorize",
  envoy_check: "portcullis.check",
};

/**
 * Metrics, decision logs, the audit log and traces, applied as decorators
 * around the parts the server is wired from, so those parts stay free of
 * them. Decision logs are written whether or not metrics are on; without
 * tracing no part is wrapped for it, so the untraced path is the path
 * without tracing code.
 */
export interface Observability {
  store(store: Store): Store;
  decisions(engine: Decider, transport: DecisionTransport): Decider;
  /** Goes first in the Connect interceptor list. */
  readonly interceptors: Interceptor[];
  /** GET /metrics, when metrics are on. */
  readonly routes: Route[];
  /** Counts a reload of the listener's TLS files. */
  tlsReloaded(result: TlsReloadResult): void;
  /** Counts a call refused by caller identity; `service` is one the server routes. */
  callerRefused(service: string): void;
  /** The configuration in use is now the one with this hash (at start and after each reload). */
  configLoaded(hash: string): void;
  /** A reload was applied (success) or refused (failure); an unchanged file counts as neither. */
  configReloaded(result: "success" | "failure"): void;
  /** Audit lines, whatever the log level. */
  readonly audit: AuditLog;
  /** Where the caller of an audited call is noted; every caller decision passes through it. */
  readonly callers: CallerScope;
}

export interface ObservabilitySettings {
  metricsEnabled: boolean;
  adminServices: readonly DescService[];
  decisionLog: DecisionLogSettings;
  /** Present when tracing is on: Authorize and Check decisions and store calls get spans. */
  tracing?: Tracing;
}

export function createObservability(settings: ObservabilitySettings, log: Logger): Observability {
  const metrics = settings.metricsEnabled ? createMetrics() : undefined;
  const tracing = settings.tracing;
  const traced = (engine: Decider, transport: DecisionTransport) => {
    const span = DECISION_SPANS[transport];
    return tracing !== undefined && span !== undefined ? tracedEngine(engine, tracing, span) : engine;
  };
  const decisionLog = log.child({ log: "decision" });
  const { subjects, subjectHashKey, allowSampleRate } = settings.decisionLog;
  const policy: DecisionLogPolicy = {
    sampleAllow: () => allowSampleRate > 0 && Math.random() < allowSampleRate,
    principal: principalView(subjects, subjectHashKey ?? randomBytes(32)),
  };
  const callers = callerScope();
  return {
    store: (store) => (metrics || tracing ? instrumentedStore(store, { metrics, tracing }) : store),
    decisions: (engine, transport) =>
      callers.notingCallers(instrumentedEngine(traced(engine, transport), decisionRecorder(transport, metrics, decisionLog, policy))),
    interceptors: metrics ? [adminCallsInterceptor(metrics, settings.adminServices)] : [],
    routes: metrics ? [metricsRoute(metrics.registry)] : [],
    tlsReloaded: (result) => metrics?.tlsReloads.labels(result).inc(),
    callerRefused: (service) => metrics?.callerRefusals.labels(service).inc(),
    configLoaded(hash) {
      // Info-style: only the hash in use has a series, so a dashboard sees one value per replica.
      metrics?.configInfo.reset();
      metrics?.configInfo.set({ hash }, 1);
    },
    configReloaded(result) {
      metrics?.configReloads.inc({ result });
    },
    audit: auditLog(log),
    callers,
  };
}
