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
 * service signature would couple them all to auditing. So a call's record is
 * filed under the credential the call presents while it runs, and every
 * caller decision on that credential fills it, in one place:
 * `notingCallers`. Calls in flight with one credential share what the engine
 * learnt of it, which is one and the same caller.
 *
 * No AsyncLocalStorage: on Node 20 its first `run()` turns promise hooks on
 * for the whole process, and every decision's promises would pay for them.
 */
export interface CallerScope {
  /** Runs one call presenting `authorization`, with a fresh record of its caller. */
  within<T>(authorization: string, call: () => Promise<T>): Promise<{ caller: NotedCaller; outcome: PromiseSettledResult<T> }>;
  /** The engine with every caller decision noted in the records of the calls presenting its credential. */
  notingCallers(engine: Decider): Decider;
}

export function callerScope(): CallerScope {
  const open = new Map<string, Set<NotedCaller>>();
  return {
    async within(authorization, call) {
      const caller: NotedCaller = {};
      let records = open.get(authorization);
      if (records === undefined) open.set(authorization, (records = new Set()));
      records.add(caller);
      try {
        const outcome = await call().then(
          (value) => ({ status: "fulfilled" as const, value }),
          (reason: unknown) => ({ status: "rejected" as const, reason }),
        );
        return { caller, outcome };
      } finally {
        records.delete(caller);
        if (records.size === 0) open.delete(authorization);
      }
    },

    notingCallers(engine) {
      return {
        decide: (request, trace) => engine.decide(request, trace),
        async decideCaller(question) {
          const decision = await engine.decideCaller(question);
          const { identity } = decision;
          if (identity === undefined) return decision;
          for (const caller of open.get(question.authorization) ?? []) {
            // A denial can carry the identity (a verified token that is not root): who tried is worth as much as who did.
            if (identity.tokenId !== "") caller.tokenId = identity.tokenId;
            if (identity.owner !== undefined) caller.owner = identity.owner;
          }
          return decision;
        },
      };
    },
  };
}
