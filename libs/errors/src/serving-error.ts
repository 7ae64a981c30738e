import { status } from '@grpc/grpc-js';

/**
 * Base of every error a request can end in. `code` is the gRPC status (equal to TF's error::Code),
 * so the one mapping in status-mapping.ts turns any of these into a gRPC status or an HTTP code.
 */
export class ServingError extends Error {
  constructor(
    readonly code: status,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends ServingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(status.INVALID_ARGUMENT, message, options);
  }
}

export class NotFoundError extends ServingError {
  constructor(message: string) {
    super(status.NOT_FOUND, message);
  }
}

export class FailedPreconditionError extends ServingError {
  constructor(message: string) {
    super(status.FAILED_PRECONDITION, message);
  }
}

export class UnavailableError extends ServingError {
  constructor(message: string) {
    super(status.UNAVAILABLE, message);
  }
}

export class ResourceExhaustedError extends ServingError {
  constructor(message: string) {
    super(status.RESOURCE_EXHAUSTED, message);
  }
}

export class DeadlineExceededError extends ServingError {
  constructor(message: string) {
    super(status.DEADLINE_EXCEEDED, message);
  }
}

export class UnimplementedError extends ServingError {
  constructor(message: string) {
    super(status.UNIMPLEMENTED, message);
  }
}

export class CancelledError extends ServingError {
  constructor(message: string) {
    super(status.CANCELLED, message);
  }
}

export class InternalError extends ServingError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(status.INTERNAL, message, options);
  }
}

/** No credentials, or credentials that do not verify (HTTP 401). */
export class UnauthenticatedError extends ServingError {
  constructor(message: string) {
    super(status.UNAUTHENTICATED, message);
  }
}

/** A known caller asking for what it may not do (HTTP 403). */
export class PermissionDeniedError extends ServingError {
  constructor(message: string) {
    super(status.PERMISSION_DENIED, message);
  }
}
