import type { Logger } from "pino";
import { UnavailableError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import { reasonCodesOf } from "../model/reason-codes.js";
import { stripQuery } from "../policy/resource.js";
import type { Metrics } from "./metrics.js";

/** Where a decision was asked for; a metric label, so a closed set. Add a transport here. */
export type DecisionTransport = "authorize" | "resolve_libraries" | "envoy_check";

/** The label for a reason code missing from REASON_CODES: labels never take unlisted values. */
const OTHER_REASON = "other";

/** Logged resources are cut here: they are request input of up to 8 KiB. */
const LOGGED_RESOURCE_LENGTH = 256;

/** Counts, times and logs the decisions of one transport. */
export interface DecisionRecorder {
  /** `started` is the performance.now() reading taken before deciding. */
  decided(allowed: boolean, reason: string, identity: Identity | undefined, resource: string | undefined, started: number): void;
  /** Deciding threw (an outage, or a bug); the caller rethrows. */
  failed(error: unknown, resource: string | undefined, started: number): void;
}

type Inc = { inc(value?: number): void };

export function decisionRecorder(transport: DecisionTransport, metrics: Metrics | undefined, log: Logger): DecisionRecorder {
  // Label children are resolved once here, not per decision.
  const counts = metrics && { allow: reasonChildren(metrics, transport, "allow"), deny: reasonChildren(metrics, transport, "deny") };
  const seconds = metrics && {
    allow: outcomeChild(metrics, transport, "allow"),
    deny: outcomeChild(metrics, transport, "deny"),
    unavailable: outcomeChild(metrics, transport, "unavailable"),
    error: outcomeChild(metrics, transport, "error"),
  };
  return {
    decided(allowed, reason, identity, resource, started) {
      const elapsedMs = performance.now() - started;
      if (counts && seconds) {
        const children = allowed ? counts.allow : counts.deny;
        (children.get(reason) ?? children.get(OTHER_REASON)!).inc();
        (allowed ? seconds.allow : seconds.deny).observe(elapsedMs / 1000);
      }
      // Asked before the log object is built, so a server logging at info allocates nothing for it.
      if (!log.isLevelEnabled("debug")) return;
      log.debug(
        {
          transport,
          decision: allowed ? "allow" : "deny",
          reason,
          tokenId: identity?.tokenId,
          credentialType: identity?.credentialType,
          issuer: identity?.issuerAlias,
          resource: loggedResource(resource),
          latencyMs: roundedMs(elapsedMs),
        },
        "decision",
      );
    },

    failed(error, resource, started) {
      const elapsedMs = performance.now() - started;
      const unavailable = error instanceof UnavailableError;
      seconds?.[unavailable ? "unavailable" : "error"].observe(elapsedMs / 1000);
      // Only fields of our own: the error's message or cause could quote request input.
      const fields = { transport, resource: loggedResource(resource), latencyMs: roundedMs(elapsedMs) };
      if (unavailable) log.warn({ ...fields, outcome: "unavailable" }, "no decision: a dependency is unavailable, the caller fails closed");
      else log.error({ ...fields, outcome: "error", errorType: errorType(error) }, "no decision: deciding failed");
    },
  };
}

function reasonChildren(metrics: Metrics, transport: DecisionTransport, decision: "allow" | "deny"): Map<string, Inc> {
  const children = new Map<string, Inc>();
  for (const reason of [...reasonCodesOf(decision), OTHER_REASON]) {
    const child = metrics.decisions.labels(transport, decision, reason);
    // Zero series exist from the start, so rates and alerts see them before the first event.
    child.inc(0);
    children.set(reason, child);
  }
  return children;
}

function outcomeChild(metrics: Metrics, transport: DecisionTransport, outcome: string) {
  metrics.decisionSeconds.zero({ transport, outcome });
  return metrics.decisionSeconds.labels(transport, outcome);
}

/** Query strings can carry credentials (`?access_token=`): never logged. */
function loggedResource(resource: string | undefined): string | undefined {
  return resource === undefined ? undefined : stripQuery(resource).slice(0, LOGGED_RESOURCE_LENGTH);
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

/** Microseconds are plenty in a log line. */
function roundedMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
