import { randomUUID } from "node:crypto";
import type { Level, Logger } from "pino";
import type { CallerRequirement, Decision } from "../decision/decision.js";
import { DeadlineExceededError, UnavailableError } from "../errors.js";
import { reasonCodesOf } from "../model/reason-codes.js";
import { stripQuery, type RequestHost } from "../policy/resource.js";
import type { Metrics } from "./metrics.js";
import type { PrincipalView } from "./principal-view.js";

/**
 * Where a decision was asked for; a metric label, so a closed set. Add a
 * transport here. Each asks one kind of question: a request (authorize,
 * envoy_check) or a caller (the rest).
 */
export type DecisionTransport = "authorize" | "envoy_check" | "resolve_libraries" | "token_admin" | "dcr" | "oauth_flow" | "upstream_tokens";

/** What the engine was asked, as the decision log names it. */
export type Asked = { question: "request"; resource: string; host?: RequestHost } | { question: "caller"; requirement: CallerRequirement };

/** How decision lines are written: which allows reach `info`, and how a principal is shown. */
export interface DecisionLogPolicy {
  /** True for an allow to be logged at info; every other allow is logged at debug. */
  sampleAllow(): boolean;
  principal: PrincipalView;
}

/** The label for a reason code missing from REASON_CODES: labels never take unlisted values. */
const OTHER_REASON = "other";

/** Logged paths, tools and hosts are cut here: they are request input of up to 8 KiB. */
const LOGGED_INPUT_LENGTH = 256;

/** Counts, times and logs the decisions of one transport. */
export interface DecisionRecorder {
  /** `started` is the performance.now() reading taken before deciding. */
  decided(asked: Asked, decision: Decision, started: number): void;
  /** Deciding threw (an outage, the caller's deadline, or a bug); the caller rethrows. */
  failed(asked: Asked, error: unknown, started: number): void;
}

type Inc = { inc(value?: number): void };

/**
 * `log` is the decision log (lines marked `log: "decision"`): one line per
 * decision, denials at info, allows at info when sampled and at debug
 * otherwise, each self-contained so a log pipeline can ingest it as is.
 */
export function decisionRecorder(
  transport: DecisionTransport,
  metrics: Metrics | undefined,
  log: Logger,
  policy: DecisionLogPolicy,
): DecisionRecorder {
  // A line's fields are this recorder's own, none of them a path the logger
  // redacts, so redaction could only cost (about half of a denial's line);
  // the logger still masks credentials in every line it writes.
  const lines = log.child({}, { redact: [] });
  // Label children are resolved once here, not per decision.
  const counts = metrics && { allow: reasonChildren(metrics, transport, "allow"), deny: reasonChildren(metrics, transport, "deny") };
  const seconds = metrics && {
    allow: outcomeChild(metrics, transport, "allow"),
    deny: outcomeChild(metrics, transport, "deny"),
    unavailable: outcomeChild(metrics, transport, "unavailable"),
    deadline_exceeded: outcomeChild(metrics, transport, "deadline_exceeded"),
    error: outcomeChild(metrics, transport, "error"),
  };
  return {
    decided(asked, decision, started) {
      const { allowed, reason, identity, rule } = decision;
      const elapsedMs = performance.now() - started;
      if (counts && seconds) {
        const children = allowed ? counts.allow : counts.deny;
        (children.get(reason) ?? children.get(OTHER_REASON)!).inc();
        (allowed ? seconds.allow : seconds.deny).observe(elapsedMs / 1000);
      }
      const level: Level = !allowed || policy.sampleAllow() ? "info" : "debug";
      // Asked before the line is built, so an unsampled allow at info allocates nothing for it.
      if (!lines.isLevelEnabled(level)) return;
      lines[level](
        {
          decisionId: randomUUID(),
          timestamp: new Date().toISOString(),
          transport,
          ...askedFields(asked),
          ...(rule === undefined ? {} : { rule }),
          decision: allowed ? "allow" : "deny",
          reason,
          ...(!decision.allowed && decision.detail !== undefined ? { detail: decision.detail } : {}),
          ...(identity === undefined ? {} : { credentialType: identity.credentialType, principal: policy.principal(identity) }),
          latencyMs: roundedMs(elapsedMs),
        },
        "decision",
      );
    },

    failed(asked, error, started) {
      const elapsedMs = performance.now() - started;
      const outcome = error instanceof UnavailableError ? "unavailable" : error instanceof DeadlineExceededError ? "deadline_exceeded" : "error";
      seconds?.[outcome].observe(elapsedMs / 1000);
      // Only fields of our own: the error's message or cause could quote request input.
      const fields = { transport, ...askedFields(asked), latencyMs: roundedMs(elapsedMs) };
      if (outcome === "unavailable") lines.warn({ ...fields, outcome }, "no decision: a dependency is unavailable, the caller fails closed");
      else if (outcome === "deadline_exceeded") lines.warn({ ...fields, outcome }, "no decision: the caller's deadline passed first, the caller fails closed");
      else lines.error({ ...fields, outcome: "error", errorType: errorType(error) }, "no decision: deciding failed");
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

/**
 * Query strings can carry credentials (`?access_token=`): never logged. The
 * resource as asked is kept beside its parts, which a pipeline can filter on.
 * Scopes of a requirement are the code's own.
 */
function askedFields(asked: Asked): Record<string, string> {
  if (asked.question === "request") {
    const resource = stripQuery(asked.resource).slice(0, LOGGED_INPUT_LENGTH);
    const host = firstHost(asked.host);
    return { question: "request", resource, ...resourceParts(resource), ...(host === undefined ? {} : { host }) };
  }
  const { requirement } = asked;
  return { question: "caller", requirement: requirement.kind, ...(requirement.kind === "root_or_scope" ? { scope: requirement.scope } : {}) };
}

/** `GET /x` as method and path, `tool:x` as tool; the engine's parser decides whether either is well formed. */
function resourceParts(resource: string): Record<string, string> {
  if (resource.startsWith("tool:")) return { tool: resource.slice("tool:".length) };
  const space = resource.indexOf(" ");
  return space === -1 ? {} : { method: resource.slice(0, space), path: resource.slice(space + 1) };
}

/** Several spellings that disagree are denied (bad_host) by the engine; the first is enough to find the line. */
function firstHost(host: RequestHost | undefined): string | undefined {
  const first = typeof host === "string" ? host : host?.find((spelling) => spelling !== "");
  return first === undefined || first === "" ? undefined : first.slice(0, LOGGED_INPUT_LENGTH);
}

function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name : typeof error;
}

/** Microseconds are plenty in a log line. */
function roundedMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
