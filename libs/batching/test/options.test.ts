import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { InvalidArgumentError } from '@maas/errors';
import type { BatchingParameters } from '@maas/protos';
import { addConstantModel } from '@maas/test-support';
import * as ort from 'onnxruntime-node';
import { batchingOptionsFromParameters, DynamicBatcher, type BatchingOptions } from '../src/index.js';

function params(fields: Partial<BatchingParameters> = {}): BatchingParameters {
  return { allowedBatchSizes: [], padVariableLengthInputs: false, ...fields };
}

function invalid(fields: Partial<BatchingParameters>, message: RegExp, overrides?: Partial<BatchingOptions>): void {
  assert.throws(
    () => batchingOptionsFromParameters(params(fields), overrides),
    (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
  );
}

test('unset fields get TF Serving defaults', () => {
  assert.deepEqual(batchingOptionsFromParameters(params()), {
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
  });
});

test('set fields are converted from int64 wrappers', () => {
  const o = batchingOptionsFromParameters(
    params({
      maxBatchSize: 128n,
      batchTimeoutMicros: 2_000n,
      maxEnqueuedBatches: 1_000_000n,
      numBatchThreads: 8n,
      allowedBatchSizes: [32n, 64n, 128n],
      padVariableLengthInputs: true,
    }),
  );
  assert.equal(o.maxBatchSize, 128);
  assert.equal(o.batchTimeoutMicros, 2_000);
  assert.equal(o.maxEnqueuedBatches, 1_000_000);
  assert.equal(o.numBatchThreads, 8);
  assert.deepEqual(o.allowedBatchSizes, [32, 64, 128]);
  assert.equal(o.padVariableLengthInputs, true);
  assert.equal(o.maxExecutionBatchSize, 128);
});

test('max_execution_batch_size defaults to max_batch_size and only applies with splitting', () => {
  const splitting = batchingOptionsFromParameters(params({ maxBatchSize: 64n, enableLargeBatchSplitting: true }));
  assert.equal(splitting.maxExecutionBatchSize, 64);
  const explicit = batchingOptionsFromParameters(
    params({ maxBatchSize: 64n, enableLargeBatchSplitting: true, maxExecutionBatchSize: 16n, allowedBatchSizes: [8n, 16n] }),
  );
  assert.equal(explicit.maxExecutionBatchSize, 16);
  const ignored = batchingOptionsFromParameters(params({ maxBatchSize: 64n, maxExecutionBatchSize: 16n }));
  assert.equal(ignored.maxExecutionBatchSize, 64);
});

test('overrides apply on top of the parameters and are validated too', () => {
  const o = batchingOptionsFromParameters(params({ maxBatchSize: 16n }), {
    priorityLevels: 3,
    defaultPriority: 2,
    preferredBatchSizes: [4, 8],
    overloadStatus: 'RESOURCE_EXHAUSTED',
  });
  assert.equal(o.priorityLevels, 3);
  assert.equal(o.defaultPriority, 2);
  assert.deepEqual(o.preferredBatchSizes, [4, 8]);
  assert.equal(o.overloadStatus, 'RESOURCE_EXHAUSTED');
  invalid({}, /default_priority_level must be in \[1, priority_levels = 2\]; got 3/, { priorityLevels: 2, defaultPriority: 3 });
  invalid({ maxBatchSize: 16n }, /preferred_batch_size entries must be integers in \[1, max_batch_size = 16\]; got 32/, {
    preferredBatchSizes: [32],
  });
});

test("TF's start-up errors are InvalidArgumentError with a clear message", () => {
  invalid(
    { maxBatchSize: 8n, allowedBatchSizes: [2n, 4n, 4n, 8n] },
    /allowed_batch_sizes entries must be monotonically increasing; got \[2, 4, 4, 8\]/,
  );
  invalid({ maxBatchSize: 8n, allowedBatchSizes: [4n, 2n, 8n] }, /monotonically increasing/);
  invalid(
    { maxBatchSize: 8n, allowedBatchSizes: [2n, 4n] },
    /^Last entry in allowed_batch_sizes must match max_batch_size; last entry was 4; expected 8$/,
  );
  invalid(
    { maxBatchSize: 8n, enableLargeBatchSplitting: true, maxExecutionBatchSize: 4n, allowedBatchSizes: [2n, 8n] },
    /Last entry in allowed_batch_sizes must match max_execution_batch_size; last entry was 8; expected 4/,
  );
  invalid(
    { maxBatchSize: 8n, enableLargeBatchSplitting: true, maxExecutionBatchSize: 16n },
    /max_execution_batch_size must be less than or equal to max_batch_size/,
  );
  invalid({ maxBatchSize: 0n }, /max_batch_size must be a positive integer; got 0/);
  invalid({ maxEnqueuedBatches: 0n }, /max_enqueued_batches must be a positive integer/);
  invalid({ numBatchThreads: -1n }, /num_batch_threads must be a positive integer/);
  invalid({ batchTimeoutMicros: -5n }, /batch_timeout_micros must be non-negative/);
  invalid({ maxBatchSize: 1n << 60n }, /max_batch_size is out of range/);
  invalid({ maxBatchSize: 8n, allowedBatchSizes: [0n, 8n] }, /allowed_batch_sizes entries must be positive integers/);
});

test('the DynamicBatcher constructor validates its options too', async () => {
  const session = await ort.InferenceSession.create(addConstantModel(1));
  const good = batchingOptionsFromParameters(params({ maxBatchSize: 4n }));
  assert.throws(
    () => new DynamicBatcher('m:1', { ...good, allowedBatchSizes: [1, 2] }, async (x) => (await session.run(x)) as never),
    InvalidArgumentError,
  );
  await session.release();
});

test("MaaS's extension fields set preferred sizes, priority levels, overload status and a default queue timeout", () => {
  const o = batchingOptionsFromParameters({
    ...params({ maxBatchSize: 32n }),
    preferredBatchSizes: [8n, 16n],
    priorityLevels: 3n,
    defaultPriorityLevel: 2n,
    defaultQueueTimeoutMicros: 250_000n,
    overloadStatus: 'RESOURCE_EXHAUSTED',
  });
  assert.deepEqual(o.preferredBatchSizes, [8, 16]);
  assert.equal(o.priorityLevels, 3);
  assert.equal(o.defaultPriority, 2);
  assert.equal(o.defaultQueueTimeoutMs, 250);
  assert.equal(o.overloadStatus, 'RESOURCE_EXHAUSTED');
  // 0 and unset mean no default queue timeout; an empty status is the default one.
  const none = batchingOptionsFromParameters({ ...params(), defaultQueueTimeoutMicros: 0n, overloadStatus: '' });
  assert.equal(none.defaultQueueTimeoutMs, undefined);
  assert.equal(none.overloadStatus, 'UNAVAILABLE');
});

test('extension fields are validated at load', () => {
  const bad = (fields: Record<string, unknown>, message: RegExp) =>
    assert.throws(
      () => batchingOptionsFromParameters({ ...params({ maxBatchSize: 8n }), ...fields }),
      (error: unknown) => error instanceof InvalidArgumentError && message.test(error.message),
    );
  bad({ preferredBatchSizes: [16n] }, /preferred_batch_size entries must be integers in \[1, max_batch_size = 8\]; got 16/);
  bad({ priorityLevels: 0n }, /priority_levels must be a positive integer/);
  bad({ priorityLevels: 2n, defaultPriorityLevel: 3n }, /default_priority_level must be in \[1, priority_levels = 2\]; got 3/);
  bad({ overloadStatus: 'ABORTED' }, /overload_status must be UNAVAILABLE or RESOURCE_EXHAUSTED; got ABORTED/);
  bad({ defaultQueueTimeoutMicros: -1n }, /default_queue_timeout_micros must be positive; got -1/);
});
