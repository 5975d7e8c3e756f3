import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Decider } from "../decision/decision.js";
import { metricsRoute } from "../http/metrics-route.js";
import type { Route } from "../http/route-table.js";
import type { TlsReloadResult } from "../http/tls-reloader.js";
import type { Store } from "../store/store.js";
import { adminCallsInterceptor } from "./admin-calls-interceptor.js";
import { decisionRecorder, type DecisionTransport } from "./decision-recorder.js";
import { instrumentedEngine } from "./instrumented-engine.js";
import { instrumentedStore } from "./instrumented-store.js";
import { createMetrics } from "./metrics.js";

/**
 * Metrics and decision logs, applied as decorators around the parts the
 * server is wired from, so those parts stay free of them. Decision logs are
 * written whether or not metrics are on.
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
}

export function createObservability(settings: { metricsEnabled: boolean; adminServices: readonly DescService[] }, log: Logger): Observability {
  const metrics = settings.metricsEnabled ? createMetrics() : undefined;
  return {
    store: (store) => (metrics ? instrumentedStore(store, metrics) : store),
    decisions: (engine, transport) => instrumentedEngine(engine, decisionRecorder(transport, metrics, log)),
    interceptors: metrics ? [adminCallsInterceptor(metrics, settings.adminServices)] : [],
    routes: metrics ? [metricsRoute(metrics.registry)] : [],
    tlsReloaded: (result) => metrics?.tlsReloads.labels(result).inc(),
    callerRefused: (service) => metrics?.callerRefusals.labels(service).inc(),
  };
}
