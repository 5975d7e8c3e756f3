/**
 * Domain errors. Each has a stable `code`; the transports translate codes in
 * one table at their boundary (src/api/error-mapping.ts) and never forward an
 * internal cause to the wire.
 */
export abstract class PortcullisError extends Error {
  abstract readonly code: string;
}

export class InvalidArgumentError extends PortcullisError {
  readonly code = "invalid_argument";
  constructor(
    readonly field: string,
    readonly detail: string,
  ) {
    super(`${field}: ${detail}`);
  }
}

export class UnauthenticatedError extends PortcullisError {
  readonly code = "unauthenticated";
  constructor(readonly reason: string) {
    super(`credential rejected: ${reason}`);
  }
}

export class PermissionDeniedError extends PortcullisError {
  readonly code = "permission_denied";
}

export class NotFoundError extends PortcullisError {
  readonly code = "not_found";
}

export class AlreadyExistsError extends PortcullisError {
  readonly code = "already_exists";
}

export class FailedPreconditionError extends PortcullisError {
  readonly code = "failed_precondition";
}

/** A concurrent change came first; nothing was changed, and the caller may try again. */
export class AbortedError extends PortcullisError {
  readonly code = "aborted";
}

/** A dependency (store, identity provider) could not answer; callers must fail closed. */
export class UnavailableError extends PortcullisError {
  readonly code = "unavailable";
  /** What went wrong inside, for the log only: the wire gets `message` alone. */
  readonly detail?: string;
  /** A code for what is unavailable, where a probe reports it (`/readyz`). */
  readonly reason?: string;

  constructor(message: string, options?: { cause?: unknown; detail?: string; reason?: string }) {
    super(message, options === undefined ? undefined : { cause: options.cause });
    this.detail = options?.detail;
    this.reason = options?.reason;
  }
}

/**
 * The caller's deadline passed (or the caller went away) before an answer:
 * nothing was decided, so the caller fails closed, as for an outage.
 */
export class DeadlineExceededError extends PortcullisError {
  readonly code = "deadline_exceeded";
  constructor(message = "deadline exceeded: no decision within the caller's deadline") {
    super(message);
  }
}
