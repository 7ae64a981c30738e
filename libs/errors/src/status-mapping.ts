import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ServingError } from './serving-error.js';

/** TF Serving cuts messages at 1024 characters (model_servers/grpc_status_util.cc). */
const MAX_MESSAGE_LENGTH = 1024;

export function truncateMessage(message: string): string {
  return message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH)}...TRUNCATED` : message;
}

/** Any thrown value as a ServingError; unknown failures become INTERNAL with their message. */
export function asServingError(error: unknown): ServingError {
  if (error instanceof ServingError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ServingError(status.INTERNAL, message, { cause: error });
}

/** The object grpc-js expects as the error argument of a unary callback. */
export function toGrpcError(error: unknown): Partial<ServiceError> {
  const serving = asServingError(error);
  return { code: serving.code, details: truncateMessage(serving.message), metadata: new Metadata() };
}

/** TF Serving's ToHTTPStatusCode (http_server.cc), shared/spec §7.2. */
export function httpStatusFor(code: status): number {
  switch (code) {
    case status.OK:
      return 200;
    case status.CANCELLED:
      return 499;
    case status.INVALID_ARGUMENT:
    case status.FAILED_PRECONDITION:
    case status.OUT_OF_RANGE:
      return 400;
    case status.DEADLINE_EXCEEDED:
      return 504;
    case status.NOT_FOUND:
      return 404;
    case status.ALREADY_EXISTS:
    case status.ABORTED:
      return 409;
    case status.PERMISSION_DENIED:
      return 403;
    case status.RESOURCE_EXHAUSTED:
      return 429;
    case status.UNIMPLEMENTED:
      return 501;
    case status.UNAVAILABLE:
      return 503;
    case status.UNAUTHENTICATED:
      return 401;
    default:
      return 500;
  }
}
