import { FailedPreconditionError, NotFoundError, PermissionDeniedError, ServingError, UnavailableError } from '@maas/errors';

/** The fields S3 SDK errors carry (S3ServiceException and the credential providers' errors). */
interface SdkErrorFields {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

/**
 * An object store failure as a typed error: missing objects and buckets are NOT_FOUND, refusals
 * PERMISSION_DENIED, a worker without credentials FAILED_PRECONDITION, and the rest (network,
 * throttling, 5xx, a download cut short) UNAVAILABLE, the one kind worth retrying.
 */
export function objectStoreError(what: string, error: unknown): ServingError {
  if (error instanceof ServingError) return error;
  const fields = (error ?? {}) as SdkErrorFields;
  const status = fields.$metadata?.httpStatusCode;
  const detail = `${what}: ${fields.name ?? 'Error'}${status ? ` (HTTP ${status})` : ''}: ${fields.message ?? String(error)}`;
  if (status === 404 || ['NoSuchBucket', 'NoSuchKey', 'NotFound'].includes(fields.name ?? '')) return new NotFoundError(detail);
  if (status === 403 || fields.name === 'AccessDenied') return new PermissionDeniedError(detail);
  if (fields.name === 'CredentialsProviderError') return new FailedPreconditionError(detail);
  return new UnavailableError(detail);
}
