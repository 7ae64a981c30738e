import {
  ModelType,
  type BatchingParameters,
  type FileSystemStoragePathSourceConfig_ServableVersionPolicy,
  type FileSystemStoragePathSourceConfig_ServableVersionPolicy_All,
  type FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest,
  type FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific,
  type LogCollectorConfig,
  type LoggingConfig,
  type ModelConfig,
  type ModelConfigList,
  type ModelServerConfig,
  type MonitoringConfig,
  type PrometheusConfig,
  type SamplingConfig,
  type SamplingConfig_PerTaskSamplingConfig,
} from '@maas/protos';
import { any, enumOf, mapOf, message, messageSchema, parseMessage, scalar, wrapper, type EnumSchema, type FieldSchema } from './schema.js';

/**
 * Schemas of the TF Serving config files read as text format (shared/spec §3.13, §8, §10), and their
 * parse functions. Field names are the proto names; keys are the ts-proto property names.
 */

export const MODEL_TYPE_ENUM: EnumSchema = {
  fullName: 'tensorflow.serving.ModelType',
  values: {
    MODEL_TYPE_UNSPECIFIED: ModelType.MODEL_TYPE_UNSPECIFIED,
    TENSORFLOW: ModelType.TENSORFLOW,
    OTHER: ModelType.OTHER,
  },
};

const POLICY = 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy';

export const LATEST_SCHEMA = messageSchema<FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest>(`${POLICY}.Latest`, [
  { name: 'num_versions', key: 'numVersions', type: scalar('uint32') },
]);

export const ALL_SCHEMA = messageSchema<FileSystemStoragePathSourceConfig_ServableVersionPolicy_All>(`${POLICY}.All`, []);

export const SPECIFIC_SCHEMA = messageSchema<FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific>(`${POLICY}.Specific`, [
  { name: 'versions', key: 'versions', type: scalar('int64'), repeated: true },
]);

export const SERVABLE_VERSION_POLICY_SCHEMA = messageSchema<FileSystemStoragePathSourceConfig_ServableVersionPolicy>(POLICY, [
  { name: 'latest', key: 'latest', type: message(() => LATEST_SCHEMA), oneof: 'policy_choice' },
  { name: 'all', key: 'all', type: message(() => ALL_SCHEMA), oneof: 'policy_choice' },
  { name: 'specific', key: 'specific', type: message(() => SPECIFIC_SCHEMA), oneof: 'policy_choice' },
]);

export const LOG_COLLECTOR_CONFIG_SCHEMA = messageSchema<LogCollectorConfig>('tensorflow.serving.LogCollectorConfig', [
  { name: 'type', key: 'type', type: scalar('string') },
  { name: 'filename_prefix', key: 'filenamePrefix', type: scalar('string') },
]);

export const PER_TASK_SAMPLING_CONFIG_SCHEMA = messageSchema<SamplingConfig_PerTaskSamplingConfig>(
  'tensorflow.serving.SamplingConfig.PerTaskSamplingConfig',
  [
    { name: 'dc', key: 'dc', type: scalar('string') },
    { name: 'task_index', key: 'taskIndex', type: scalar('int32'), optional: true },
    { name: 'sampling_rate', key: 'samplingRate', type: scalar('double') },
  ],
);

export const SAMPLING_CONFIG_SCHEMA = messageSchema<SamplingConfig>('tensorflow.serving.SamplingConfig', [
  { name: 'sampling_rate', key: 'samplingRate', type: scalar('double') },
  { name: 'attributes', key: 'attributes', type: scalar('int32') },
  { name: 'per_task_sampling_configs', key: 'perTaskSamplingConfigs', type: message(() => PER_TASK_SAMPLING_CONFIG_SCHEMA), repeated: true },
]);

export const LOGGING_CONFIG_SCHEMA = messageSchema<LoggingConfig>('tensorflow.serving.LoggingConfig', [
  { name: 'log_collector_config', key: 'logCollectorConfig', type: message(() => LOG_COLLECTOR_CONFIG_SCHEMA) },
  { name: 'sampling_config', key: 'samplingConfig', type: message(() => SAMPLING_CONFIG_SCHEMA) },
  { name: 'custom_logging_config', key: 'customLoggingConfig', type: any },
]);

export const MODEL_CONFIG_SCHEMA = messageSchema<ModelConfig>('tensorflow.serving.ModelConfig', [
  { name: 'name', key: 'name', type: scalar('string') },
  { name: 'base_path', key: 'basePath', type: scalar('string') },
  { name: 'model_type', key: 'modelType', type: enumOf(MODEL_TYPE_ENUM) },
  { name: 'model_platform', key: 'modelPlatform', type: scalar('string') },
  { name: 'model_version_policy', key: 'modelVersionPolicy', type: message(() => SERVABLE_VERSION_POLICY_SCHEMA) },
  { name: 'version_labels', key: 'versionLabels', type: mapOf('tensorflow.serving.ModelConfig.VersionLabelsEntry', 'int64') },
  { name: 'logging_config', key: 'loggingConfig', type: message(() => LOGGING_CONFIG_SCHEMA) },
]);

export const MODEL_CONFIG_LIST_SCHEMA = messageSchema<ModelConfigList>('tensorflow.serving.ModelConfigList', [
  { name: 'config', key: 'config', type: message(() => MODEL_CONFIG_SCHEMA), repeated: true },
]);

export const MODEL_SERVER_CONFIG_SCHEMA = messageSchema<ModelServerConfig>('tensorflow.serving.ModelServerConfig', [
  { name: 'model_config_list', key: 'modelConfigList', type: message(() => MODEL_CONFIG_LIST_SCHEMA), oneof: 'config' },
  { name: 'custom_model_config', key: 'customModelConfig', type: any, oneof: 'config' },
]);

export const BATCHING_PARAMETERS_SCHEMA = messageSchema<BatchingParameters>('tensorflow.serving.BatchingParameters', [
  { name: 'max_batch_size', key: 'maxBatchSize', type: wrapper('int64') },
  { name: 'batch_timeout_micros', key: 'batchTimeoutMicros', type: wrapper('int64') },
  { name: 'max_enqueued_batches', key: 'maxEnqueuedBatches', type: wrapper('int64') },
  { name: 'num_batch_threads', key: 'numBatchThreads', type: wrapper('int64') },
  { name: 'thread_pool_name', key: 'threadPoolName', type: wrapper('string') },
  { name: 'allowed_batch_sizes', key: 'allowedBatchSizes', type: scalar('int64'), repeated: true },
  { name: 'pad_variable_length_inputs', key: 'padVariableLengthInputs', type: scalar('bool') },
  { name: 'enable_large_batch_splitting', key: 'enableLargeBatchSplitting', type: wrapper('bool') },
  { name: 'max_execution_batch_size', key: 'maxExecutionBatchSize', type: wrapper('int64') },
]);

/**
 * MaaS's Triton-style additions to BatchingParameters. TF Serving's proto has no such fields, so a
 * file that sets them is MaaS-only; a file without them reads exactly as TF Serving reads it.
 */
export interface BatchingParametersExtensions {
  /** Launch a batch at once when this many rows are queued (Triton's preferred_batch_size). */
  preferredBatchSizes: bigint[];
  /** Priority levels, each with its own bounded queue; 1 is the highest. */
  priorityLevels: bigint | undefined;
  /** Level of requests that name none (x-maas-priority). */
  defaultPriorityLevel: bigint | undefined;
  /** Queue timeout of requests that name none (x-maas-queue-timeout-ms); 0 or unset: none. */
  defaultQueueTimeoutMicros: bigint | undefined;
  /** Status of the answer when a queue is full: UNAVAILABLE (TF Serving's) or RESOURCE_EXHAUSTED. */
  overloadStatus: string | undefined;
}

export type ServingBatchingParameters = BatchingParameters & BatchingParametersExtensions;

export const SERVING_BATCHING_PARAMETERS_SCHEMA = messageSchema<ServingBatchingParameters>('tensorflow.serving.BatchingParameters', [
  ...(BATCHING_PARAMETERS_SCHEMA.fields as unknown as ReadonlyArray<FieldSchema<ServingBatchingParameters>>),
  { name: 'preferred_batch_sizes', key: 'preferredBatchSizes', type: scalar('int64'), repeated: true },
  { name: 'priority_levels', key: 'priorityLevels', type: wrapper('int64') },
  { name: 'default_priority_level', key: 'defaultPriorityLevel', type: wrapper('int64') },
  { name: 'default_queue_timeout_micros', key: 'defaultQueueTimeoutMicros', type: wrapper('int64') },
  { name: 'overload_status', key: 'overloadStatus', type: wrapper('string') },
]);

export const PROMETHEUS_CONFIG_SCHEMA = messageSchema<PrometheusConfig>('tensorflow.serving.PrometheusConfig', [
  { name: 'enable', key: 'enable', type: scalar('bool') },
  { name: 'path', key: 'path', type: scalar('string') },
]);

export const MONITORING_CONFIG_SCHEMA = messageSchema<MonitoringConfig>('tensorflow.serving.MonitoringConfig', [
  { name: 'prometheus_config', key: 'prometheusConfig', type: message(() => PROMETHEUS_CONFIG_SCHEMA) },
]);

/**
 * Parses a `--model_config_file` (text-format ModelServerConfig). Only the protobuf rules are checked
 * (known fields, value kinds, ranges, oneofs, no repeated singular fields); semantic checks such as
 * absolute base paths or unique names are the caller's. `custom_model_config` is returned as an Any
 * (empty `value` when written in expanded form) so the caller can reject it as TF Serving does.
 */
export function parseModelServerConfig(text: string): ModelServerConfig {
  return parseMessage(text, MODEL_SERVER_CONFIG_SCHEMA);
}

/** Parses a `--batching_parameters_file` or a per-model `batching_params.pbtxt` (text-format BatchingParameters). */
export function parseBatchingParameters(text: string): BatchingParameters {
  return parseMessage(text, BATCHING_PARAMETERS_SCHEMA);
}

/** Parses a batching parameters file as `maas` reads it: TF Serving's fields plus BatchingParametersExtensions. */
export function parseServingBatchingParameters(text: string): ServingBatchingParameters {
  return parseMessage(text, SERVING_BATCHING_PARAMETERS_SCHEMA);
}

/** Parses a `--monitoring_config_file` (text-format MonitoringConfig). */
export function parseMonitoringConfig(text: string): MonitoringConfig {
  return parseMessage(text, MONITORING_CONFIG_SCHEMA);
}
