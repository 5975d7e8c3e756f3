import type { DescService } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Decider } from "../decision/decision.js";
import { metricsRoute } from "../http/metrics-route.js";
import type { Route } from "../http/route-table.js";
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
  /** The configuration in use is now the one with this hash (at start and after each reload). */
  configLoaded(hash: string): void;
  /** A reload was applied (success) or refused (failure); an unchanged file counts as neither. */
  configReloaded(result: "success" | "failure"): void;
}

export function createObservability(settings: { metricsEnabled: boolean; adminServices: readonly DescService[] }, log: Logger): Observability {
  const metrics = settings.metricsEnabled ? createMetrics() : undefined;
  return {
    store: (store) => (metrics ? instrumentedStore(store, metrics) : store),
    decisions: (engine, transport) => instrumentedEngine(engine, decisionRecorder(transport, metrics, log)),
    interceptors: metrics ? [adminCallsInterceptor(metrics, settings.adminServices)] : [],
    routes: metrics ? [metricsRoute(metrics.registry)] : [],
    configLoaded(hash) {
      // Info-style: only the hash in use has a series, so a dashboard sees one value per replica.
      metrics?.configInfo.reset();
      metrics?.configInfo.set({ hash }, 1);
    },
    configReloaded(result) {
      metrics?.configReloads.inc({ result });
    },
  };
}
