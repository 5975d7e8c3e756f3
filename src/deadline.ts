import { DeadlineExceededError } from "./errors.js";

/**
 * A call's deadline travels as an AbortSignal: aborted when the caller's
 * deadline passes or the caller cancels. Waits that other callers share (a
 * JWKS fetch) or that cannot be cancelled (a Redis command) are not aborted
 * by it: the caller only stops waiting for them.
 */

/** Throws DeadlineExceededError when `signal` has fired: no further work is started for that caller. */
export function throwIfPast(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new DeadlineExceededError();
}

/**
 * `work`'s outcome, or DeadlineExceededError as soon as `signal` fires,
 * whichever comes first. `work` itself goes on and may serve others; its
 * listener on `signal` is removed once either settles, so a long-lived
 * signal collects none.
 */
export function untilDeadline<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  if (signal.aborted) {
    // Settled by nobody else now: a rejection of the abandoned work must not go unhandled.
    work.catch(() => undefined);
    return Promise.reject(new DeadlineExceededError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new DeadlineExceededError());
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
