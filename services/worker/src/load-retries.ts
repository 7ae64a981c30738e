import { setTimeout as sleep } from 'node:timers/promises';

/** How often a version that failed to load is tried again before it is reported failed. */
export interface LoadRetryPolicy {
  /** Attempts after the first (TF Serving's --max_num_load_retries). */
  maxRetries: number;
  /** Wait between attempts (TF Serving's --load_retry_interval_micros, in ms). */
  intervalMs: number;
}

/**
 * TF Serving's defaults (5 retries, 60 s apart) for `maas serve`. A cluster worker does not retry
 * in place: the scheduler places a failed version on another worker instead.
 */
export const TF_SERVING_LOAD_RETRIES: LoadRetryPolicy = { maxRetries: 5, intervalMs: 60_000 };
export const NO_LOAD_RETRIES: LoadRetryPolicy = { maxRetries: 0, intervalMs: 0 };

/**
 * Runs `load` until it succeeds or the retries are spent (then its last error is thrown). An abort
 * (the model is unloaded, the server stops) ends the wait and throws the last error at once.
 */
export async function loadWithRetries<T>(
  load: () => Promise<T>,
  policy: LoadRetryPolicy,
  signal: AbortSignal,
  onRetry: (error: unknown, retry: number) => void,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await load();
    } catch (error) {
      if (retry >= policy.maxRetries || signal.aborted) throw error;
      onRetry(error, retry + 1);
      const aborted = await sleep(policy.intervalMs, false, { signal }).catch(() => true);
      if (aborted) throw error;
    }
  }
}
