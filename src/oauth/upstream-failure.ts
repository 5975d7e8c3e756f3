import { FailedPreconditionError, UnavailableError } from "../errors.js";
import { UnreachableError } from "../upstream/bounded-fetch.js";

export const UPSTREAM_UNAVAILABLE = "upstream_unavailable: the upstream authorization server could not be used";

/**
 * Runs one call to an upstream authorization server and answers every
 * failure of it alike: a closed port, a service that is not HTTP, an HTTP
 * error, a refused address and a timeout must look the same to the caller,
 * or the flow becomes a scanner of whatever network Portcullis sits in.
 * The cause goes to the log as the error's detail. With `unusableAnswer`,
 * an answer that is not what was asked for (discovery_failed) is such a
 * failure too: it tells a listening HTTP service from a closed port.
 */
export async function upstreamCall<T>(call: () => Promise<T>, options: { unusableAnswer?: boolean } = {}): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const generic = error instanceof UnavailableError || (options.unusableAnswer === true && error instanceof FailedPreconditionError);
    if (!generic) throw error;
    const detail = error instanceof UnavailableError && error.detail !== undefined ? `${error.message}; ${error.detail}` : error.message;
    // Whether the request left stays known: a flow is put back only when it did not.
    const failure = error instanceof UnreachableError ? UnreachableError : UnavailableError;
    throw new failure(UPSTREAM_UNAVAILABLE, { detail });
  }
}
