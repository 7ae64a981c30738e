import { InvalidArgumentError } from '@maas/errors';
import type { CallContext } from './serving-backend.js';

/**
 * Per-request batching hints, sent as gRPC metadata or HTTP headers of the same names (MaaS's own,
 * TF Serving has none). Workers read them into the CallContext; the scheduler passes them on.
 */
export const PRIORITY_HEADER = 'x-maas-priority';
export const QUEUE_TIMEOUT_HEADER = 'x-maas-queue-timeout-ms';

export type BatchingHints = Pick<CallContext, 'priority' | 'queueTimeoutMs'>;

const DIGITS = /^\s*\d+\s*$/;

/** Reads the hints through `header` (undefined when absent); malformed values are INVALID_ARGUMENT naming the header. */
export function batchingHintsFrom(header: (name: string) => string | undefined): BatchingHints {
  const hints: BatchingHints = {};
  const priority = header(PRIORITY_HEADER);
  if (priority !== undefined) {
    const level = Number(priority);
    if (!DIGITS.test(priority) || !Number.isSafeInteger(level) || level < 1) {
      throw new InvalidArgumentError(`${PRIORITY_HEADER} must be a priority level >= 1 (1 is the highest); got '${priority}'`);
    }
    hints.priority = level;
  }
  const timeout = header(QUEUE_TIMEOUT_HEADER);
  if (timeout !== undefined) {
    const ms = Number(timeout);
    if (!DIGITS.test(timeout) || !Number.isSafeInteger(ms)) {
      throw new InvalidArgumentError(`${QUEUE_TIMEOUT_HEADER} must be a non-negative integer number of milliseconds; got '${timeout}'`);
    }
    hints.queueTimeoutMs = ms;
  }
  return hints;
}

/** The hints as header entries, for passing a call on (only those that are set). */
export function batchingHeaders(hints: BatchingHints): Array<[string, string]> {
  const headers: Array<[string, string]> = [];
  if (hints.priority !== undefined) headers.push([PRIORITY_HEADER, String(hints.priority)]);
  if (hints.queueTimeoutMs !== undefined) headers.push([QUEUE_TIMEOUT_HEADER, String(hints.queueTimeoutMs)]);
  return headers;
}
