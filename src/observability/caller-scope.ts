import { AsyncLocalStorage } from "node:async_hooks";
import type { Decider } from "../decision/decision.js";

/** What the engine learnt of the caller of one API call. */
export interface NotedCaller {
  tokenId?: string;
  /** The acting user: the owner of the caller's credential, when it has one. */
  owner?: string;
}

/**
 * Carries the caller the engine verified out of an API call to whoever
 * audits the call. The services ask the engine about their caller deep
 * inside (token administration asks through its own `requireRoot`), with
 * only the Authorization value in hand; passing a record down through every
 * service signature would couple them all to auditing. An async-local record
 * reaches from the interceptor that opens it to the engine's answer, and is
 * written in one place: `notingCallers`.
 */
export interface CallerScope {
  /** Runs one call with a fresh record of its caller. */
  within<T>(call: () => Promise<T>): Promise<{ caller: NotedCaller; outcome: PromiseSettledResult<T> }>;
  /** The engine with every caller decision noted in the current call's record. */
  notingCallers(engine: Decider): Decider;
}

export function callerScope(): CallerScope {
  const current = new AsyncLocalStorage<NotedCaller>();
  return {
    async within(call) {
      const caller: NotedCaller = {};
      const outcome = await current.run(caller, () =>
        call().then(
          (value) => ({ status: "fulfilled" as const, value }),
          (reason: unknown) => ({ status: "rejected" as const, reason }),
        ),
      );
      return { caller, outcome };
    },

    notingCallers(engine) {
      return {
        decide: (request, trace) => engine.decide(request, trace),
        async decideCaller(question) {
          const decision = await engine.decideCaller(question);
          const caller = current.getStore();
          // A denial can carry the identity (a verified token that is not root): who tried is worth as much as who did.
          if (caller !== undefined && decision.identity !== undefined && decision.identity.tokenId !== "") {
            caller.tokenId = decision.identity.tokenId;
          }
          if (caller !== undefined && decision.identity?.owner !== undefined) caller.owner = decision.identity.owner;
          return decision;
        },
      };
    },
  };
}
