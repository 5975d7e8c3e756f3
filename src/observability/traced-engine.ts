import type { Decider } from "../decision/decision.js";
import { SPAN_ATTRIBUTES, type Tracing } from "../tracing/tracing.js";

/** The span of each request decision; caller questions pass through untraced. */
export type DecisionSpanName = "portcullis.authorize" | "portcullis.check";

/**
 * The engine with every request decision in a SERVER span, parented to the
 * trace its call's headers name. The span carries what was decided and why
 * (decision, reason, rule, credential type): the Decision's own codes and
 * the policy's rule names, never the credential or a header value.
 */
export function tracedEngine(engine: Decider, tracing: Tracing, name: DecisionSpanName): Decider {
  return {
    decide: (request, trace) =>
      tracing.server(name, trace, async (span) => {
        const decision = await engine.decide(request, trace);
        span.setAttribute(SPAN_ATTRIBUTES.decision, decision.allowed ? "allow" : "deny");
        span.setAttribute(SPAN_ATTRIBUTES.reason, decision.reason);
        if (decision.rule !== undefined) span.setAttribute(SPAN_ATTRIBUTES.rule, decision.rule);
        if (decision.identity !== undefined) span.setAttribute(SPAN_ATTRIBUTES.credentialType, decision.identity.credentialType);
        return decision;
      }),
    decideCaller: (question) => engine.decideCaller(question),
  };
}
