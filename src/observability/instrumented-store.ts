import { PortcullisError, UnavailableError } from "../errors.js";
import type { Store } from "../store/store.js";
import { SPAN_ATTRIBUTES, type Tracing } from "../tracing/tracing.js";
import type { Metrics } from "./metrics.js";

type Method = (...args: unknown[]) => unknown;

/**
 * The store with its failures counted by backend and operation
 * ("tokens.get", "ping"), when metrics are on, and each call a child span
 * of the decision it serves (`portcullis.store tokens.get`), when tracing
 * is on. Every sub-store is wrapped by walking its methods, so record kinds
 * added to Store later are covered without a change here. Domain answers
 * such as AlreadyExistsError are results, not failures.
 */
export function instrumentedStore(store: Store, parts: { metrics?: Metrics; tracing?: Tracing }): Store {
  const { metrics, tracing } = parts;
  const wrap = (target: object, prefix: string): object => {
    const wrapped = Object.create(target) as Record<string, unknown>;
    for (const name of methodNames(target)) {
      const method = (target as Record<string, Method>)[name]!;
      const operation = prefix + name;
      const counted = metrics ? countingFailures(metrics, store.backend, operation, method, target) : (...args: unknown[]) => method.apply(target, args);
      if (tracing === undefined) {
        wrapped[name] = counted;
        continue;
      }
      // Built once per operation: a traced call allocates no attributes of its own.
      const spanName = `portcullis.store ${operation}`;
      const attributes = { [SPAN_ATTRIBUTES.storeBackend]: store.backend, [SPAN_ATTRIBUTES.storeOperation]: operation };
      wrapped[name] = (...args: unknown[]) => tracing.child(spanName, "client", attributes, () => counted(...args));
    }
    return wrapped;
  };
  const instrumented = wrap(store, "") as Record<string, unknown>;
  for (const [name, member] of Object.entries(store)) {
    if (typeof member === "object" && member !== null) instrumented[name] = wrap(member, `${name}.`);
  }
  return instrumented as unknown as Store;
}

function countingFailures(metrics: Metrics, backend: string, operation: string, method: Method, target: object): Method {
  const unavailable = metrics.storeErrors.labels(backend, operation, "unavailable");
  const unexpected = metrics.storeErrors.labels(backend, operation, "unexpected");
  // Zero series from the start: increase() then sees the first failure too.
  unavailable.inc(0);
  unexpected.inc(0);
  const count = (error: unknown): never => {
    if (error instanceof UnavailableError) unavailable.inc();
    else if (!(error instanceof PortcullisError)) unexpected.inc();
    throw error;
  };
  return (...args: unknown[]) => {
    let result: unknown;
    try {
      result = method.apply(target, args);
    } catch (error) {
      count(error);
    }
    return result instanceof Promise ? result.catch(count) : result;
  };
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
