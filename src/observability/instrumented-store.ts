import { PortcullisError, UnavailableError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { Metrics } from "./metrics.js";

type Method = (...args: unknown[]) => unknown;

/**
 * The store with its failures counted by backend and operation
 * ("tokens.get", "ping"). Every sub-store is wrapped by walking its methods,
 * so record kinds added to Store later are counted without a change here.
 * Domain answers such as AlreadyExistsError are results, not failures.
 */
export function instrumentedStore(store: Store, metrics: Metrics): Store {
  const wrap = (target: object, prefix: string): object => {
    const wrapped = Object.create(target) as Record<string, unknown>;
    for (const name of methodNames(target)) {
      const method = (target as Record<string, Method>)[name]!;
      const operation = prefix + name;
      const unavailable = metrics.storeErrors.labels(store.backend, operation, "unavailable");
      const unexpected = metrics.storeErrors.labels(store.backend, operation, "unexpected");
      // Zero series from the start: increase() then sees the first failure too.
      unavailable.inc(0);
      unexpected.inc(0);
      const count = (error: unknown): never => {
        if (error instanceof UnavailableError) unavailable.inc();
        else if (!(error instanceof PortcullisError)) unexpected.inc();
        throw error;
      };
      wrapped[name] = (...args: unknown[]) => {
        let result: unknown;
        try {
          result = method.apply(target, args);
        } catch (error) {
          count(error);
        }
        return result instanceof Promise ? result.catch(count) : result;
      };
    }
    return wrapped;
  };
  const instrumented = wrap(store, "") as Record<string, unknown>;
  for (const [name, member] of Object.entries(store)) {
    if (typeof member === "object" && member !== null) instrumented[name] = wrap(member, `${name}.`);
  }
  return instrumented as unknown as Store;
}

/** Function members, own or inherited (sub-stores may be classes), without Object's. */
function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let layer = target; layer !== null && layer !== Object.prototype; layer = Object.getPrototypeOf(layer)) {
    for (const name of Object.getOwnPropertyNames(layer)) {
      if (name !== "constructor" && typeof (target as Record<string, unknown>)[name] === "function") names.add(name);
    }
  }
  return [...names];
}
