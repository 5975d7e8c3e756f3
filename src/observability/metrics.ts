import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * Seconds. An in-memory decision takes well under a millisecond, a Redis
 * round trip a few, a stalled store up to its command timeout (2 s by default).
 */
const DECISION_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The service's metrics on a registry of their own: nothing lands in
 * prom-client's global registry, so two servers in one process (tests)
 * never share counts. Every label takes values from a closed set only.
 */
export interface Metrics {
  readonly registry: Registry;
  /** transport, decision (allow|deny), reason (a REASON_CODES member or "other"). */
  readonly decisions: Counter<"transport" | "decision" | "reason">;
  /** transport, outcome (allow|deny|unavailable|error). */
  readonly decisionSeconds: Histogram<"transport" | "outcome">;
  /** backend, operation (sub-store method), kind (unavailable|unexpected). */
  readonly storeErrors: Counter<"backend" | "operation" | "kind">;
  /** method (RPC name), code (Connect code, "ok" on success). */
  readonly adminCalls: Counter<"method" | "code">;
  /** result (reloaded|unchanged|failed). */
  readonly tlsReloads: Counter<"result">;
  /** service (a service the server routes). */
  readonly callerRefusals: Counter<"service">;
  /** result (success|failure): configuration reloads that changed something, or were refused. */
  readonly configReloads: Counter<"result">;
  /** hash (the loaded configuration file's): 1 for the configuration in use, the one series present. */
  readonly configInfo: Gauge<"hash">;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const metrics: Metrics = {
    registry,
    decisions: new Counter({
      name: "portcullis_decisions_total",
      help: "Decisions answered, by transport, decision and reason code.",
      labelNames: ["transport", "decision", "reason"],
      registers,
    }),
    decisionSeconds: new Histogram({
      name: "portcullis_decision_duration_seconds",
      help: "Time to decide, by transport and outcome (allow, deny, unavailable, deadline_exceeded, error).",
      labelNames: ["transport", "outcome"],
      buckets: DECISION_BUCKETS,
      registers,
    }),
    storeErrors: new Counter({
      name: "portcullis_store_errors_total",
      help: "Store operations that failed, by backend, operation and kind (unavailable, unexpected).",
      labelNames: ["backend", "operation", "kind"],
      registers,
    }),
    adminCalls: new Counter({
      name: "portcullis_admin_operations_total",
      help: "Token administration calls, by method and result code.",
      labelNames: ["method", "code"],
      registers,
    }),
    tlsReloads: new Counter({
      name: "portcullis_tls_reloads_total",
      help: "Reloads of the TLS certificate, key and client CA, by result (reloaded, unchanged, failed: the old ones stay).",
      labelNames: ["result"],
      registers,
    }),
    callerRefusals: new Counter({
      name: "portcullis_caller_identity_refusals_total",
      help: "Calls refused because the client certificate may not call the service (caller_not_allowed), by service.",
      labelNames: ["service"],
      registers,
    }),
    configReloads: new Counter({
      name: "portcullis_config_reload_total",
      help: "Configuration reloads, by result: success (a changed file swapped in) or failure (refused, the old one kept).",
      labelNames: ["result"],
      registers,
    }),
    configInfo: new Gauge({
      name: "portcullis_config_info",
      help: "Always 1; its hash label names the configuration file in use (the first 16 hex digits of its SHA-256).",
      labelNames: ["hash"],
      registers,
    }),
  };
  // Both results are shown from the start, so a rate() over the failures has a series before the first one.
  for (const result of ["success", "failure"] as const) metrics.configReloads.inc({ result }, 0);
  return metrics;
}
