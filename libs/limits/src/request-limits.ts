import { ResourceExhaustedError } from '@maas/errors';

/** Caps on one request. Each is named by the flag that sets it, and refusals name that flag. */
export interface RequestLimits {
  /** Tensor elements summed over a request's inputs (declared shapes), or feature values over its examples. */
  maxRequestElements: number;
  /** Bytes of any one string: a string_val, an element of a DT_STRING tensor_content, a bytes_list value. */
  maxStringBytes: number;
  /** Rows (instances, or examples) in one REST request. */
  maxRestRows: number;
}

/**
 * Defaults sized so one request cannot take the process's memory: 2^28 elements is 1 GiB of
 * float32 (the tensor codec's per-tensor default, here for the whole request), strings up to
 * 16 MiB (an encoded image fits), 65 536 REST rows.
 */
export const DEFAULT_REQUEST_LIMITS: Readonly<RequestLimits> = {
  maxRequestElements: 1 << 28,
  maxStringBytes: 16 * 1024 * 1024,
  maxRestRows: 65_536,
};

/** Requests in flight per client at a front door: far above one client's honest concurrency. */
export const DEFAULT_MAX_IN_FLIGHT_PER_CLIENT = 1000;

/** HTTP/2 streams (concurrent calls) per connection; grpc-js would allow 2^32. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;

/** The flag each limit is set by, named in every refusal. */
export const LIMIT_FLAGS = {
  maxRequestElements: 'max_request_elements',
  maxStringBytes: 'max_string_bytes',
  maxRestRows: 'rest_api_max_rows',
  maxInFlightPerClient: 'max_in_flight_per_client',
  maxConcurrentStreams: 'grpc_max_concurrent_streams',
  maxMessageBytes: 'grpc_max_message_bytes',
} as const;

/** RESOURCE_EXHAUSTED (HTTP 429) naming the limit and the flag that sets it. */
export function limitExceeded(what: string, limit: number, flag: string): ResourceExhaustedError {
  return new ResourceExhaustedError(`${what}, more than the limit of ${limit} (--${flag})`);
}
