import { availableParallelism } from 'node:os';
import { InvalidArgumentError } from '@maas/errors';
import type { BatchingParameters } from '@maas/protos';
import type { BatchingParametersExtensions } from '@maas/text-proto';

/** Settings of one DynamicBatcher (one model version). TF Serving's BatchingParameters plus Triton-style extras. */
export interface BatchingOptions {
  /** Largest executed batch (without splitting) and largest request accepted. TF default 1000. */
  maxBatchSize: number;
  /** How long the OLDEST queued request may wait for more work before a partial batch launches. TF default 0. */
  batchTimeoutMicros: number;
  /** Queue capacity in batches: at most maxEnqueuedBatches * maxBatchSize rows queued (per priority level). TF default 10. */
  maxEnqueuedBatches: number;
  /** Batches executed concurrently. TF default: number of CPUs. */
  numBatchThreads: number;
  /** Executed sizes, strictly ascending; the last equals the largest executed size. Batches are padded with zero rows up to the next one. */
  allowedBatchSizes: number[];
  /** Split requests larger than maxExecutionBatchSize across several executed batches. */
  enableLargeBatchSplitting: boolean;
  /** Largest executed batch when splitting (<= maxBatchSize); equals maxBatchSize otherwise. */
  maxExecutionBatchSize: number;
  /** Pad ragged non-batch dims to the longest in the batch (zeros / empty strings). Outputs are not un-padded. */
  padVariableLengthInputs: boolean;
  /** Triton-style: launch at once when a shape group has queued at least one of these row counts. */
  preferredBatchSizes: number[];
  /** Number of priority levels (>= 1); level 1 is the highest. Each level has its own bounded queue. */
  priorityLevels: number;
  /** Level used when a request gives no priority. */
  defaultPriority: number;
  /** Status of the error a request gets when the queue is full. */
  overloadStatus: 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED';
  /** Queue timeout of requests that give none (SubmitOptions.queueTimeoutMs); undefined: none. */
  defaultQueueTimeoutMs?: number;
}

/** TF Serving's defaults (shared_batch_scheduler.h / bundle_factory_util.cc). */
export function defaultBatchingOptions(): BatchingOptions {
  return {
    maxBatchSize: 1000,
    batchTimeoutMicros: 0,
    maxEnqueuedBatches: 10,
    numBatchThreads: availableParallelism(),
    allowedBatchSizes: [],
    enableLargeBatchSplitting: false,
    maxExecutionBatchSize: 1000,
    padVariableLengthInputs: false,
    preferredBatchSizes: [],
    priorityLevels: 1,
    defaultPriority: 1,
    overloadStatus: 'UNAVAILABLE',
  };
}

function int64(name: string, value: bigint | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InvalidArgumentError(`Batching parameter ${name} is out of range: ${value}`);
  }
  return Number(value);
}

/**
 * Turns a BatchingParameters message (text format of --batching_parameters_file) into options:
 * applies TF Serving's defaults for unset fields, then `overrides`, then validates like TF does at
 * model load (InvalidArgumentError).
 *
 * max_execution_batch_size defaults to max_batch_size; it only matters when
 * enable_large_batch_splitting is on (TF ignores it otherwise), so without splitting it is forced to
 * max_batch_size.
 */
export function batchingOptionsFromParameters(
  // MaaS's additions are optional, so a plain TF BatchingParameters message reads too.
  params: BatchingParameters & Partial<BatchingParametersExtensions>,
  overrides: Partial<BatchingOptions> = {},
): BatchingOptions {
  const defaults = defaultBatchingOptions();
  const maxBatchSize = int64('max_batch_size', params.maxBatchSize) ?? defaults.maxBatchSize;
  const fromParams: BatchingOptions = {
    ...defaults,
    maxBatchSize,
    batchTimeoutMicros: int64('batch_timeout_micros', params.batchTimeoutMicros) ?? defaults.batchTimeoutMicros,
    maxEnqueuedBatches: int64('max_enqueued_batches', params.maxEnqueuedBatches) ?? defaults.maxEnqueuedBatches,
    numBatchThreads: int64('num_batch_threads', params.numBatchThreads) ?? defaults.numBatchThreads,
    allowedBatchSizes: params.allowedBatchSizes.map((size) => int64('allowed_batch_sizes', size) as number),
    enableLargeBatchSplitting: params.enableLargeBatchSplitting ?? defaults.enableLargeBatchSplitting,
    maxExecutionBatchSize: int64('max_execution_batch_size', params.maxExecutionBatchSize) ?? maxBatchSize,
    padVariableLengthInputs: params.padVariableLengthInputs,
    preferredBatchSizes: (params.preferredBatchSizes ?? []).map((size) => int64('preferred_batch_sizes', size) as number),
    priorityLevels: int64('priority_levels', params.priorityLevels) ?? defaults.priorityLevels,
    defaultPriority: int64('default_priority_level', params.defaultPriorityLevel) ?? defaults.defaultPriority,
    overloadStatus: (params.overloadStatus || defaults.overloadStatus) as BatchingOptions['overloadStatus'],
  };
  const queueTimeoutMicros = int64('default_queue_timeout_micros', params.defaultQueueTimeoutMicros);
  // 0 means none, like batch_timeout_micros 0 means no waiting.
  if (queueTimeoutMicros) fromParams.defaultQueueTimeoutMs = queueTimeoutMicros / 1000;
  const merged: BatchingOptions = { ...fromParams, ...withoutUndefined(overrides) };
  if (overrides.maxBatchSize !== undefined && overrides.maxExecutionBatchSize === undefined && params.maxExecutionBatchSize === undefined) {
    merged.maxExecutionBatchSize = merged.maxBatchSize;
  }
  if (!merged.enableLargeBatchSplitting) merged.maxExecutionBatchSize = merged.maxBatchSize;
  validateBatchingOptions(merged);
  return merged;
}

function withoutUndefined<T extends object>(value: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function positiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError(`${name} must be a positive integer; got ${value}`);
  }
}

/** Checks options (TF Serving's start-up checks plus ours); throws InvalidArgumentError. */
export function validateBatchingOptions(options: BatchingOptions): void {
  positiveInteger('max_batch_size', options.maxBatchSize);
  if (!Number.isFinite(options.batchTimeoutMicros) || options.batchTimeoutMicros < 0) {
    throw new InvalidArgumentError(`batch_timeout_micros must be non-negative; got ${options.batchTimeoutMicros}`);
  }
  positiveInteger('max_enqueued_batches', options.maxEnqueuedBatches);
  positiveInteger('num_batch_threads', options.numBatchThreads);
  positiveInteger('max_execution_batch_size', options.maxExecutionBatchSize);
  if (options.enableLargeBatchSplitting) {
    if (options.maxExecutionBatchSize > options.maxBatchSize) {
      throw new InvalidArgumentError(
        'When enable_large_batch_splitting is true, max_execution_batch_size must be less than or equal to ' +
          `max_batch_size; got max_execution_batch_size ${options.maxExecutionBatchSize} and max_batch_size ${options.maxBatchSize}`,
      );
    }
  } else if (options.maxExecutionBatchSize !== options.maxBatchSize) {
    throw new InvalidArgumentError(
      `max_execution_batch_size (${options.maxExecutionBatchSize}) differs from max_batch_size (${options.maxBatchSize}) ` +
        'but enable_large_batch_splitting is false',
    );
  }
  const executedMax = options.maxExecutionBatchSize;
  const executedMaxName = options.enableLargeBatchSplitting ? 'max_execution_batch_size' : 'max_batch_size';
  const allowed = options.allowedBatchSizes;
  if (allowed.length > 0) {
    let previous = 0;
    for (const size of allowed) {
      if (!Number.isSafeInteger(size) || size <= 0) {
        throw new InvalidArgumentError(`allowed_batch_sizes entries must be positive integers; got ${size}`);
      }
      if (size <= previous) {
        throw new InvalidArgumentError(
          `allowed_batch_sizes entries must be monotonically increasing; got [${allowed.join(', ')}]`,
        );
      }
      previous = size;
    }
    const last = allowed[allowed.length - 1];
    if (last !== executedMax) {
      throw new InvalidArgumentError(
        `Last entry in allowed_batch_sizes must match ${executedMaxName}; last entry was ${last}; expected ${executedMax}`,
      );
    }
  }
  for (const size of options.preferredBatchSizes) {
    if (!Number.isSafeInteger(size) || size <= 0 || size > executedMax) {
      throw new InvalidArgumentError(
        `preferred_batch_size entries must be integers in [1, ${executedMaxName} = ${executedMax}]; got ${size}`,
      );
    }
  }
  positiveInteger('priority_levels', options.priorityLevels);
  if (!Number.isSafeInteger(options.defaultPriority) || options.defaultPriority < 1 || options.defaultPriority > options.priorityLevels) {
    throw new InvalidArgumentError(
      `default_priority_level must be in [1, priority_levels = ${options.priorityLevels}]; got ${options.defaultPriority}`,
    );
  }
  if (options.overloadStatus !== 'UNAVAILABLE' && options.overloadStatus !== 'RESOURCE_EXHAUSTED') {
    throw new InvalidArgumentError(
      `overload_status must be UNAVAILABLE or RESOURCE_EXHAUSTED; got ${String(options.overloadStatus)}`,
    );
  }
  const queueTimeout = options.defaultQueueTimeoutMs;
  if (queueTimeout !== undefined && !(Number.isFinite(queueTimeout) && queueTimeout > 0)) {
    throw new InvalidArgumentError(`default_queue_timeout_micros must be positive; got ${queueTimeout * 1000}`);
  }
}
