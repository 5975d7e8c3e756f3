import type { Logger } from "pino";
import type { CallerRequirement, Decision } from "../decision/decision.js";
import { UnavailableError } from "../errors.js";
import type { Identity } from "../model/identity.js";
import { reasonCodesOf } from "../model/reason-codes.js";
import { stripQuery } from "../policy/resource.js";
import type { Metrics } from "./metrics.js";

/**
 * Where a decision was asked for; a metric label, so a closed set. Add a
 * transport here. Each asks one kind of question: a request (authorize,
 * envoy_check) or a caller (the rest).
 */
export type DecisionTransport = "authorize" | "envoy_check" | "resolve_libraries" | "token_admin" | "dcr" | "oauth_flow";

/** What the engine was asked, as the decision log names it. */
export type Asked = { question: "request"; resource: string } | { question: "caller"; requirement: CallerRequirement };

/** The label for a reason code missing from REASON_CODES: labels never take unlisted values. */
const OTHER_REASON = "other";

/** Logged resources are cut here: they are request input of up to 8 KiB. */
const LOGGED_RESOURCE_LENGTH = 256;

/** Counts, times and logs the decisions of one transport. */
export interface DecisionRecorder {
  /** `started` is the performance.now() reading taken before deciding. */
  decided(asked: Asked, decision: Decision, started: number): void;
  /** Deciding threw (an outage, or a bug); the caller rethrows. */
  failed(asked: Asked, error: unknown, started: number): void;
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
    decided(asked, { allowed, reason, identity }, started) {
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
          ...askedFields(asked),
          latencyMs: roundedMs(elapsedMs),
        },
        "decision",
      );
    },

    failed(asked, error, started) {
      const elapsedMs = performance.now() - started;
      const unavailable = error instanceof UnavailableError;
      seconds?.[unavailable ? "unavailable" : "error"].observe(elapsedMs / 1000);
      // Only fields of our own: the error's message or cause could quote request input.
      const fields = { transport, ...askedFields(asked), latencyMs: roundedMs(elapsedMs) };
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

/** Query strings can carry credentials (`?access_token=`): never logged. Scopes of a requirement are the code's own. */
function askedFields(asked: Asked): Record<string, string> {
  if (asked.question === "request") {
    return { question: "request", resource: stripQuery(asked.resource).slice(0, LOGGED_RESOURCE_LENGTH) };
  }
  const { requirement } = asked;
  return { question: "caller", requirement: requirement.kind, ...(requirement.kind === "root_or_scope" ? { scope: requirement.scope } : {}) };
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

/** Microseconds are plenty in a log line. */
function roundedMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
