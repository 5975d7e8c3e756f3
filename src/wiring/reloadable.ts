/**
 * A value that is only ever replaced whole: the parts one configuration
 * builds. A reader takes `current()` once per unit of work (a decision) and
 * uses what it got throughout, so a swap in the middle of that work never
 * gives it half of one configuration and half of the next.
 */
export interface Reloadable<T> {
  current(): T;
  /** Puts `next` in place, then tells every listener; answers the value it replaced. */
  swap(next: T): T;
  /**
   * Called after each successful reload, once `next` is in place (to flush
   * caches built under the previous configuration). A listener that throws
   * is reported and does not undo the swap. Answers a function that removes it.
   */
  onReloaded(listener: ReloadListener<T>): () => void;
}

export type ReloadListener<T> = (next: T, previous: T) => void;

export function reloadable<T>(initial: T, listenerFailed: (error: unknown) => void): Reloadable<T> {
  let value = initial;
  const listeners = new Set<ReloadListener<T>>();
  return {
    current: () => value,
    swap(next) {
      const previous = value;
      value = next;
      for (const listener of listeners) {
        try {
          listener(next, previous);
        } catch (error) {
          listenerFailed(error);
        }
      }
      return previous;
    },
    onReloaded(listener) {
      // Wrapped, so the same function added twice is two listeners, each removed by its own call.
      const entry: ReloadListener<T> = (next, previous) => listener(next, previous);
      listeners.add(entry);
      return () => listeners.delete(entry);
    },
  };
}
