import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchingParameters, MonitoringConfig, PrometheusConfig } from '@maas/protos';
import {
  BATCHING_PARAMETERS_SCHEMA,
  MONITORING_CONFIG_SCHEMA,
  PROMETHEUS_CONFIG_SCHEMA,
  defaultMessage,
  parseBatchingParameters,
  parseMonitoringConfig,
  parseServingBatchingParameters,
} from '../src/index.js';
import { assertTextFormatError } from './helpers.js';

const batching = (fields: Partial<BatchingParameters>): BatchingParameters => ({ ...BatchingParameters.fromJSON({}), ...fields });

test("the docs' suggested starting point of spec §8 parses", () => {
  const text = 'max_batch_size { value: 128 } batch_timeout_micros { value: 0 } max_enqueued_batches { value: 1000000 } num_batch_threads { value: 8 }';
  assert.deepEqual(
    parseBatchingParameters(text),
    batching({ maxBatchSize: 128n, batchTimeoutMicros: 0n, maxEnqueuedBatches: 1000000n, numBatchThreads: 8n }),
  );
});

test('every BatchingParameters field, wrappers written in every style', () => {
  const text = `
    # batching_params.pbtxt
    max_batch_size: { value: 64 }
    batch_timeout_micros < value: 500 >
    max_enqueued_batches {}                 # a wrapper present with its zero value
    thread_pool_name { value: 'batch_threads' }
    allowed_batch_sizes: [8, 16]
    allowed_batch_sizes: 64
    pad_variable_length_inputs: true
    enable_large_batch_splitting { value: false }
    max_execution_batch_size { value: 0x20 }
  `;
  assert.deepEqual(
    parseBatchingParameters(text),
    batching({
      maxBatchSize: 64n,
      batchTimeoutMicros: 500n,
      maxEnqueuedBatches: 0n,
      numBatchThreads: undefined,
      threadPoolName: 'batch_threads',
      allowedBatchSizes: [8n, 16n, 64n],
      padVariableLengthInputs: true,
      enableLargeBatchSplitting: false,
      maxExecutionBatchSize: 32n,
    }),
  );
});

test('bools accept true/false/True/False/t/f and 1/0', () => {
  const pad = (value: string) => parseBatchingParameters(`pad_variable_length_inputs: ${value}`).padVariableLengthInputs;
  assert.deepEqual(['true', 'True', 't', '1', 'false', 'False', 'f', '0'].map(pad), [true, true, true, true, false, false, false, false]);
  assert.equal(parseBatchingParameters('enable_large_batch_splitting { value: True }').enableLargeBatchSplitting, true);
});

test('an empty batching file is all defaults, and results survive a binary round trip', () => {
  assert.deepEqual(parseBatchingParameters(''), BatchingParameters.fromJSON({}));
  assert.deepEqual(defaultMessage(BATCHING_PARAMETERS_SCHEMA), BatchingParameters.fromJSON({}));
  const parsed = parseBatchingParameters('max_batch_size { value: 128 } allowed_batch_sizes: [32, 128] enable_large_batch_splitting {value: true} thread_pool_name {value: "p"}');
  assert.deepEqual(BatchingParameters.decode(BatchingParameters.encode(parsed).finish()), parsed);
});

test('batching errors point at the offending token', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['max_batch_size: 128', 1, 17, /^invalid value for field "max_batch_size" of message type "tensorflow\.serving\.BatchingParameters": expected a message of type "google\.protobuf\.Int64Value" such as '\{ value: \.\.\. \}' but found number 128$/],
    ['max_batch_size {\n  value: "128"\n}', 2, 10, /^invalid value for field "value" of message type "google\.protobuf\.Int64Value": expected an integer \(int64\) but found string "128"$/],
    ['max_batch_size { val: 1 }', 1, 18, /^message type "google\.protobuf\.Int64Value" has no field named "val"$/],
    ['max_batch_size { value: 1 value: 2 }', 1, 27, /^non-repeated field "value" of message type "google\.protobuf\.Int64Value" is specified multiple times$/],
    ['thread_pool_name { value: pool }', 1, 27, /field "value" of message type "google\.protobuf\.StringValue": expected a string but found identifier pool$/],
    ['pad_variable_length_inputs: 2', 1, 29, /field "pad_variable_length_inputs" .*expected a bool \(true, false, 1 or 0\) but found number 2$/],
    ['pad_variable_length_inputs: yes', 1, 29, /expected a bool \(true, false, 1 or 0\) but found identifier yes$/],
    ['pad_variable_length_inputs: "true"', 1, 29, /expected a bool \(true, false, 1 or 0\) but found string "true"$/],
    ['enable_large_batch_splitting { value: 1.0 }', 1, 39, /field "value" of message type "google\.protobuf\.BoolValue": expected a bool .* but found number 1\.0$/],
    ['allowed_batch_sizes: [8, 1.5]', 1, 26, /field "allowed_batch_sizes" .*expected an integer \(int64\) but found number 1\.5$/],
    ['\n\n  batch_timeout_micro { value: 1 }', 3, 3, /^message type "tensorflow\.serving\.BatchingParameters" has no field named "batch_timeout_micro"$/],
    ['max_batch_size { value: 128 }\nmax_batch_size { value: 64 }', 2, 1, /^non-repeated field "max_batch_size" .* is specified multiple times$/],
    ['num_batch_threads { value: 8 ', 1, 30, /^expected '\}' but found end of input$/],
  ];
  for (const [text, line, column, reason] of cases) assertTextFormatError(() => parseBatchingParameters(text), line, column, reason);
});

test('the monitoring config of spec §10 parses, with or without the path', () => {
  assert.deepEqual(parseMonitoringConfig('prometheus_config { enable: true, path: "/monitoring/prometheus/metrics" }'), {
    prometheusConfig: { enable: true, path: '/monitoring/prometheus/metrics' },
  });
  assert.deepEqual(parseMonitoringConfig('prometheus_config { enable: true }'), { prometheusConfig: { enable: true, path: '' } });
  assert.deepEqual(parseMonitoringConfig(''), MonitoringConfig.fromJSON({}));
  assert.deepEqual(defaultMessage(MONITORING_CONFIG_SCHEMA), MonitoringConfig.fromJSON({}));
  assert.deepEqual(defaultMessage(PROMETHEUS_CONFIG_SCHEMA), PrometheusConfig.fromJSON({}));
});

test('monitoring errors point at the offending token', () => {
  assertTextFormatError(
    () => parseMonitoringConfig('prometheus_config {\n  enable: "yes"\n}'),
    2, 11, /^invalid value for field "enable" of message type "tensorflow\.serving\.PrometheusConfig": expected a bool/,
  );
  assertTextFormatError(
    () => parseMonitoringConfig('prometheus { enable: true }'),
    1, 1, /^message type "tensorflow\.serving\.MonitoringConfig" has no field named "prometheus"$/,
  );
  assertTextFormatError(
    () => parseMonitoringConfig('prometheus_config { enable: true path: 42 }'),
    1, 40, /field "path" .*expected a string but found number 42$/,
  );
});

test("maas's batching file adds Triton-style fields; TF Serving's schema still refuses them", () => {
  const text = `
    max_batch_size { value: 32 }
    preferred_batch_sizes: [8, 16]
    priority_levels { value: 3 }
    default_priority_level { value: 2 }
    default_queue_timeout_micros { value: 500000 }
    overload_status { value: "RESOURCE_EXHAUSTED" }
  `;
  assert.deepEqual(parseServingBatchingParameters(text), {
    ...batching({ maxBatchSize: 32n }),
    preferredBatchSizes: [8n, 16n],
    priorityLevels: 3n,
    defaultPriorityLevel: 2n,
    defaultQueueTimeoutMicros: 500000n,
    overloadStatus: 'RESOURCE_EXHAUSTED',
  });
  assert.deepEqual(parseServingBatchingParameters('max_batch_size { value: 4 }'), {
    ...batching({ maxBatchSize: 4n }),
    preferredBatchSizes: [],
    priorityLevels: undefined,
    defaultPriorityLevel: undefined,
    defaultQueueTimeoutMicros: undefined,
    overloadStatus: undefined,
  });
  assert.throws(() => parseBatchingParameters('priority_levels { value: 2 }'), /has no field named "priority_levels"/);
  assert.throws(() => parseServingBatchingParameters('priority_level { value: 2 }'), /has no field named "priority_level"/);
});
