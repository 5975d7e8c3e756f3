/** Resolves when the server can serve, throws when it cannot (the store's ping, as `/readyz` asks it). */
export type Readiness = () => Promise<void>;

export interface ReadinessMonitor {
  /** Whether the server is ready: a result at most `cacheMs` old, else a fresh check that concurrent askers share. */
  isReady(): Promise<boolean>;
  /**
   * Calls `listener` with the result of every check made while it listens;
   * checks run every `intervalMs` as long as anyone listens. Returns the
   * function that stops listening.
   */
  watch(listener: (ready: boolean) => void): () => void;
}

export interface ReadinessMonitorOptions {
  intervalMs: number;
  cacheMs: number;
}

/** Monotonic: the cache's age is wall time passing, never the domain clock a test may hold still. */
const now = () => performance.now();

/**
 * One readiness check shared by every health call: however many Watch
 * streams are open and however often Check is called, the store sees at
 * most one ping per interval (plus one per expired cache), and none while
 * nobody asks.
 */
export function createReadinessMonitor(ready: Readiness, options: ReadinessMonitorOptions): ReadinessMonitor {
  const listeners = new Set<(ready: boolean) => void>();
  let last: { ready: boolean; atMs: number } | undefined;
  let inFlight: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** The running poll loop's number, 0 while none runs: a loop stopped during its check must not go on beside a new one. */
  let loop = 0;
  let loops = 0;

  const check = (): Promise<boolean> => {
    inFlight ??= ready()
      .then(
        () => true,
        () => false,
      )
      .then((result) => {
        inFlight = undefined;
        last = { ready: result, atMs: now() };
        for (const listener of listeners) listener(result);
        return result;
      });
    return inFlight;
  };

  const poll = (id: number) => {
    timer = setTimeout(() => {
      void check().then(() => {
        if (loop === id) poll(id);
      });
    }, options.intervalMs);
    // A health watcher alone never keeps the process alive.
    timer.unref();
  };

  return {
    isReady() {
      if (last !== undefined && now() - last.atMs < options.cacheMs) return Promise.resolve(last.ready);
      return check();
    },
    watch(listener) {
      listeners.add(listener);
      if (loop === 0) {
        loop = ++loops;
        poll(loop);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearTimeout(timer);
          loop = 0;
        }
      };
    },
  };
}
