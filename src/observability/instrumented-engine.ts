import type { Decider, Decision } from "../decision/decision.js";
import type { Asked, DecisionRecorder } from "./decision-recorder.js";

/**
 * The engine with every decision, of a request or of a caller, counted,
 * timed and logged; what it decides is passed through untouched, and what it
 * throws is rethrown.
 */
export function instrumentedEngine(engine: Decider, recorder: DecisionRecorder): Decider {
  async function recorded<D extends Decision>(asked: Asked, decide: () => Promise<D>): Promise<D> {
    const started = performance.now();
    try {
      const decision = await decide();
      recorder.decided(asked, decision, started);
      return decision;
    } catch (error) {
      recorder.failed(asked, error, started);
      throw error;
    }
  }
  return {
    decide: (request, trace) => recorded({ question: "request", resource: request.resource, host: request.host }, () => engine.decide(request, trace)),
    decideCaller: (question) =>
      recorded({ question: "caller", requirement: question.requirement }, () => engine.decideCaller(question)),
  };
}
