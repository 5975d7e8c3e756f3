import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import { PortcullisError, UnavailableError } from "../errors.js";

/** The one table from domain error codes to wire codes. */
const WIRE_CODES: Record<string, Code> = {
  invalid_argument: Code.InvalidArgument,
  unauthenticated: Code.Unauthenticated,
  permission_denied: Code.PermissionDenied,
  not_found: Code.NotFound,
  already_exists: Code.AlreadyExists,
  failed_precondition: Code.FailedPrecondition,
  aborted: Code.Aborted,
  unavailable: Code.Unavailable,
  deadline_exceeded: Code.DeadlineExceeded,
};

/**
 * Translates whatever a handler throws into a ConnectError. Domain errors
 * keep their message (written for callers, never holding a secret);
 * anything else is logged here and reaches the wire as a bare "internal
 * error", its cause never serialized.
 */
export function toConnectError(error: unknown, log: Logger): ConnectError {
  if (error instanceof PortcullisError) {
    const code = WIRE_CODES[error.code] ?? Code.Internal;
    // Only `detail`, written for the log: a raw cause (a client library's error) can quote a URL with its credentials.
    if (error instanceof UnavailableError) log.warn({ detail: error.detail }, error.message);
    return new ConnectError(error.message, code);
  }
  if (error instanceof ConnectError) return error;
  log.error({ err: error }, "unexpected error in handler");
  return new ConnectError("internal error", Code.Internal);
}

export function errorMappingInterceptor(log: Logger): Interceptor {
  return (next) => async (request) => {
    try {
      return await next(request);
    } catch (error) {
      throw toConnectError(error, log);
    }
  };
}
