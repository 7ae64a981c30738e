/**
 * proto/ against TF Serving's wire contract as written down in shared/spec/tfserving-api.md (§2, §3,
 * §4.1, §8): packages, message and service names, field numbers, types, labels, oneofs, reserved
 * numbers and enum values. The table below is a transcription of that facts sheet, kept apart from
 * proto/ on purpose, so an edit to a .proto that changes the wire fails here. A client built from
 * the upstream protos and one built from ours then encode every message the same way.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import protobuf from 'protobufjs';

const PROTO_ROOT = join(import.meta.dirname, '../../../proto');

/**
 * One field: `name number type [label]`, label one of `rep`, `map<key>`, `oneof:<name>`, `opt`
 * (proto3 optional). Types are fully qualified for messages and enums.
 */
type FieldLine = string;

const TS = 'tensorflow.serving';
const MESSAGES: Record<string, FieldLine[]> = {
  // §3.1 model.proto
  [`${TS}.ModelSpec`]: ['name 1 string', 'version 2 google.protobuf.Int64Value oneof:version_choice', 'version_label 4 string oneof:version_choice', 'signature_name 3 string'],
  // §3.2 predict.proto
  [`${TS}.PredictRequest`]: [
    `model_spec 1 ${TS}.ModelSpec`, 'inputs 2 tensorflow.TensorProto map<string>', 'output_filter 3 string rep',
    `predict_streamed_options 5 ${TS}.PredictStreamedOptions`, 'client_id 6 bytes opt', `request_options 7 ${TS}.PredictRequest.RequestOptions opt`,
  ],
  [`${TS}.PredictRequest.RequestOptions`]: [
    'client_id 1 bytes opt', `deterministic_mode 2 ${TS}.PredictRequest.RequestOptions.DeterministicMode opt`,
    'return_additional_arrays_from_prefill 3 bool opt', 'return_stoptokens 4 int64 rep', 'max_cache_length 6 int64 opt', 'return_all_stoptokens 9 bool opt',
  ],
  [`${TS}.PredictStreamedOptions`]: [`request_state 1 ${TS}.PredictStreamedOptions.RequestState`, 'split_dimensions 2 int32 map<string>', 'return_single_response 3 bool'],
  [`${TS}.PredictResponse`]: ['outputs 1 tensorflow.TensorProto map<string>', `model_spec 2 ${TS}.ModelSpec`],
  // §3.3 classification.proto
  [`${TS}.Class`]: ['label 1 string', 'score 2 float'],
  [`${TS}.Classifications`]: [`classes 1 ${TS}.Class rep`],
  [`${TS}.ClassificationResult`]: [`classifications 1 ${TS}.Classifications rep`],
  [`${TS}.ClassificationRequest`]: [`model_spec 1 ${TS}.ModelSpec`, `input 2 ${TS}.Input`],
  [`${TS}.ClassificationResponse`]: [`result 1 ${TS}.ClassificationResult`, `model_spec 2 ${TS}.ModelSpec`],
  // §3.4 regression.proto
  [`${TS}.Regression`]: ['value 1 float'],
  [`${TS}.RegressionResult`]: [`regressions 1 ${TS}.Regression rep`],
  [`${TS}.RegressionRequest`]: [`model_spec 1 ${TS}.ModelSpec`, `input 2 ${TS}.Input`],
  [`${TS}.RegressionResponse`]: [`result 1 ${TS}.RegressionResult`, `model_spec 2 ${TS}.ModelSpec`],
  // §3.5 input.proto
  [`${TS}.ExampleList`]: ['examples 1 tensorflow.Example rep'],
  [`${TS}.ExampleListWithContext`]: ['examples 1 tensorflow.Example rep', 'context 2 tensorflow.Example'],
  [`${TS}.Input`]: [`example_list 1 ${TS}.ExampleList oneof:kind`, `example_list_with_context 2 ${TS}.ExampleListWithContext oneof:kind`],
  // §3.6 example.proto, feature.proto
  'tensorflow.Example': ['features 1 tensorflow.Features'],
  'tensorflow.SequenceExample': ['context 1 tensorflow.Features', 'feature_lists 2 tensorflow.FeatureLists'],
  'tensorflow.Features': ['feature 1 tensorflow.Feature map<string>'],
  'tensorflow.Feature': ['bytes_list 1 tensorflow.BytesList oneof:kind', 'float_list 2 tensorflow.FloatList oneof:kind', 'int64_list 3 tensorflow.Int64List oneof:kind'],
  'tensorflow.BytesList': ['value 1 bytes rep'],
  'tensorflow.FloatList': ['value 1 float rep'],
  'tensorflow.Int64List': ['value 1 int64 rep'],
  'tensorflow.FeatureList': ['feature 1 tensorflow.Feature rep'],
  'tensorflow.FeatureLists': ['feature_list 1 tensorflow.FeatureList map<string>'],
  // §3.7 inference.proto
  [`${TS}.InferenceTask`]: [`model_spec 1 ${TS}.ModelSpec`, 'method_name 2 string'],
  [`${TS}.InferenceResult`]: [`model_spec 1 ${TS}.ModelSpec`, `classification_result 2 ${TS}.ClassificationResult oneof:result`, `regression_result 3 ${TS}.RegressionResult oneof:result`],
  [`${TS}.MultiInferenceRequest`]: [`tasks 1 ${TS}.InferenceTask rep`, `input 2 ${TS}.Input`],
  [`${TS}.MultiInferenceResponse`]: [`results 1 ${TS}.InferenceResult rep`],
  // §3.8 get_model_metadata.proto
  [`${TS}.SignatureDefMap`]: ['signature_def 1 tensorflow.SignatureDef map<string>'],
  [`${TS}.GetModelMetadataRequest`]: [`model_spec 1 ${TS}.ModelSpec`, 'metadata_field 2 string rep'],
  [`${TS}.GetModelMetadataResponse`]: [`model_spec 1 ${TS}.ModelSpec`, 'metadata 2 google.protobuf.Any map<string>'],
  // §3.9 meta_graph.proto (composite_tensor = 5 is left out on purpose, see MISSING_ON_PURPOSE)
  'tensorflow.SignatureDef': ['inputs 1 tensorflow.TensorInfo map<string>', 'outputs 2 tensorflow.TensorInfo map<string>', 'method_name 3 string', 'defaults 4 tensorflow.TensorProto map<string>'],
  'tensorflow.TensorInfo': ['name 1 string oneof:encoding', 'coo_sparse 4 tensorflow.TensorInfo.CooSparse oneof:encoding', 'dtype 2 tensorflow.DataType', 'tensor_shape 3 tensorflow.TensorShapeProto'],
  'tensorflow.TensorInfo.CooSparse': ['values_tensor_name 1 string', 'indices_tensor_name 2 string', 'dense_shape_tensor_name 3 string'],
  // §3.10 get_model_status.proto
  [`${TS}.GetModelStatusRequest`]: [`model_spec 1 ${TS}.ModelSpec`],
  [`${TS}.ModelVersionStatus`]: ['version 1 int64', `state 2 ${TS}.ModelVersionStatus.State`, `status 3 ${TS}.StatusProto`],
  [`${TS}.GetModelStatusResponse`]: [`model_version_status 1 ${TS}.ModelVersionStatus rep`],
  // §3.11 status.proto
  [`${TS}.StatusProto`]: ['error_code 1 tensorflow.error.Code', 'error_message 2 string'],
  // §3.12 model_management.proto
  [`${TS}.ReloadConfigRequest`]: [`config 1 ${TS}.ModelServerConfig`, 'metric_names 2 string rep'],
  [`${TS}.ReloadConfigResponse`]: [`status 1 ${TS}.StatusProto`, `metric 2 ${TS}.Metric rep`],
  [`${TS}.Metric`]: ['name 1 string', 'int64_value_increase 2 int64 oneof:value_increase'],
  // §3.13 model_server_config.proto and friends
  [`${TS}.ModelServerConfig`]: [`model_config_list 1 ${TS}.ModelConfigList oneof:config`, 'custom_model_config 2 google.protobuf.Any oneof:config'],
  [`${TS}.ModelConfigList`]: [`config 1 ${TS}.ModelConfig rep`],
  [`${TS}.ModelConfig`]: [
    'name 1 string', 'base_path 2 string', `model_type 3 ${TS}.ModelType`, 'model_platform 4 string',
    `model_version_policy 7 ${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy`, 'version_labels 8 int64 map<string>', `logging_config 6 ${TS}.LoggingConfig`,
  ],
  [`${TS}.FileSystemStoragePathSourceConfig`]: [
    `servables 5 ${TS}.FileSystemStoragePathSourceConfig.ServableToMonitor rep`, 'file_system_poll_wait_seconds 3 int64',
    'fail_if_zero_versions_at_startup 4 bool', 'servable_versions_always_present 6 bool',
  ],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy`]: [
    `latest 100 ${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest oneof:policy_choice`,
    `all 101 ${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All oneof:policy_choice`,
    `specific 102 ${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific oneof:policy_choice`,
  ],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest`]: ['num_versions 1 uint32'],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All`]: [],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Specific`]: ['versions 1 int64 rep'],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableToMonitor`]: [
    'servable_name 1 string', 'base_path 2 string', `servable_version_policy 4 ${TS}.FileSystemStoragePathSourceConfig.ServableVersionPolicy`,
  ],
  [`${TS}.LoggingConfig`]: [`log_collector_config 1 ${TS}.LogCollectorConfig`, `sampling_config 2 ${TS}.SamplingConfig`, 'custom_logging_config 3 google.protobuf.Any'],
  [`${TS}.LogCollectorConfig`]: ['type 1 string', 'filename_prefix 2 string'],
  [`${TS}.SamplingConfig`]: ['sampling_rate 1 double', 'attributes 2 int32', `per_task_sampling_configs 3 ${TS}.SamplingConfig.PerTaskSamplingConfig rep`],
  [`${TS}.SamplingConfig.PerTaskSamplingConfig`]: ['dc 1 string', 'task_index 2 int32 opt', 'sampling_rate 3 double'],
  [`${TS}.MonitoringConfig`]: [`prometheus_config 1 ${TS}.PrometheusConfig`],
  [`${TS}.PrometheusConfig`]: ['enable 1 bool', 'path 2 string'],
  // §3.14 tensor.proto, tensor_shape.proto, resource_handle.proto
  'tensorflow.TensorProto': [
    'dtype 1 tensorflow.DataType', 'tensor_shape 2 tensorflow.TensorShapeProto', 'version_number 3 int32', 'tensor_content 4 bytes',
    'half_val 13 int32 rep', 'float_val 5 float rep', 'double_val 6 double rep', 'int_val 7 int32 rep', 'string_val 8 bytes rep',
    'scomplex_val 9 float rep', 'int64_val 10 int64 rep', 'bool_val 11 bool rep', 'dcomplex_val 12 double rep',
    'resource_handle_val 14 tensorflow.ResourceHandleProto rep', 'variant_val 15 tensorflow.VariantTensorDataProto rep',
    'uint32_val 16 uint32 rep', 'uint64_val 17 uint64 rep', 'float8_val 18 bytes',
  ],
  'tensorflow.VariantTensorDataProto': ['type_name 1 string', 'metadata 2 bytes', 'tensors 3 tensorflow.TensorProto rep'],
  'tensorflow.TensorShapeProto': ['dim 2 tensorflow.TensorShapeProto.Dim rep', 'unknown_rank 3 bool'],
  'tensorflow.TensorShapeProto.Dim': ['size 1 int64', 'name 2 string'],
  'tensorflow.ResourceHandleProto': [
    'device 1 string', 'container 2 string', 'name 3 string', 'hash_code 4 uint64', 'maybe_type_name 5 string',
    'dtypes_and_shapes 6 tensorflow.ResourceHandleProto.DtypeAndShape rep',
  ],
  'tensorflow.ResourceHandleProto.DtypeAndShape': ['dtype 1 tensorflow.DataType', 'shape 2 tensorflow.TensorShapeProto'],
  // §4.1 types.proto
  'tensorflow.SerializedDType': ['datatype 1 tensorflow.DataType'],
  // §8 session_bundle_config.proto (BatchingParameters only)
  [`${TS}.BatchingParameters`]: [
    'max_batch_size 1 google.protobuf.Int64Value', 'batch_timeout_micros 2 google.protobuf.Int64Value', 'max_enqueued_batches 3 google.protobuf.Int64Value',
    'num_batch_threads 4 google.protobuf.Int64Value', 'thread_pool_name 5 google.protobuf.StringValue', 'allowed_batch_sizes 6 int64 rep',
    'pad_variable_length_inputs 7 bool', 'enable_large_batch_splitting 8 google.protobuf.BoolValue', 'max_execution_batch_size 9 google.protobuf.Int64Value',
  ],
};

/** Reserved field numbers the spec names; reusing one would clash with old clients. */
const RESERVED: Record<string, number[]> = {
  [`${TS}.PredictRequest`]: [4],
  [`${TS}.ModelConfig`]: [5, 9],
  [`${TS}.FileSystemStoragePathSourceConfig.ServableToMonitor`]: [3],
  'tensorflow.ResourceHandleProto': [7],
};

/** Upstream fields proto/ does not declare; a parser skips them as unknown fields, so the wire is unaffected. */
const MISSING_ON_PURPOSE: Record<string, string[]> = {
  // TypeSpecProto (struct.proto) describes TF composite tensors; ONNX signatures never have one.
  'tensorflow.TensorInfo': ['composite_tensor 5'],
};

const DT = [
  'INVALID', 'FLOAT', 'DOUBLE', 'INT32', 'UINT8', 'INT16', 'INT8', 'STRING', 'COMPLEX64', 'INT64', 'BOOL', 'QINT8', 'QUINT8', 'QINT32',
  'BFLOAT16', 'QINT16', 'QUINT16', 'UINT16', 'COMPLEX128', 'HALF', 'RESOURCE', 'VARIANT', 'UINT32', 'UINT64', 'FLOAT8_E5M2',
  'FLOAT8_E4M3FN', 'FLOAT8_E4M3FNUZ', 'FLOAT8_E4M3B11FNUZ', 'FLOAT8_E5M2FNUZ', 'INT4', 'UINT4', 'INT2', 'UINT2', 'FLOAT4_E2M1FN',
];

const ENUMS: Record<string, Record<string, number>> = {
  // §4.1: base values 0..33, reference twins at base + 100 (none for DT_INVALID).
  'tensorflow.DataType': Object.fromEntries(DT.flatMap((name, i) => (i === 0 ? [[`DT_${name}`, 0]] : [[`DT_${name}`, i], [`DT_${name}_REF`, i + 100]]))),
  'tensorflow.error.Code': {
    OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7,
    RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14,
    DATA_LOSS: 15, UNAUTHENTICATED: 16, DO_NOT_USE_RESERVED_FOR_FUTURE_EXPANSION_USE_DEFAULT_IN_SWITCH_INSTEAD_: 20,
  },
  [`${TS}.ModelVersionStatus.State`]: { UNKNOWN: 0, START: 10, LOADING: 20, AVAILABLE: 30, UNLOADING: 40, END: 50 },
  [`${TS}.PredictRequest.RequestOptions.DeterministicMode`]: { DETERMINISTIC_MODE_UNSPECIFIED: 0, FIXED_DECODER_SLOT: 1 },
  [`${TS}.PredictStreamedOptions.RequestState`]: { NONE: 0, SPLIT: 1, END_SPLIT: 2, CANCEL: 3 },
  [`${TS}.ModelType`]: { MODEL_TYPE_UNSPECIFIED: 0, TENSORFLOW: 1, OTHER: 2 },
  [`${TS}.SamplingConfig.Attributes`]: { ATTR_DEFAULT: 0, ATTR_REQUEST_ORIGIN: 1, ATTR_REQUEST_CRITICALITY: 2 },
};

/** §2: every method is unary. */
const SERVICES: Record<string, Record<string, [string, string]>> = {
  [`${TS}.PredictionService`]: {
    Classify: [`${TS}.ClassificationRequest`, `${TS}.ClassificationResponse`],
    Regress: [`${TS}.RegressionRequest`, `${TS}.RegressionResponse`],
    Predict: [`${TS}.PredictRequest`, `${TS}.PredictResponse`],
    MultiInference: [`${TS}.MultiInferenceRequest`, `${TS}.MultiInferenceResponse`],
    GetModelMetadata: [`${TS}.GetModelMetadataRequest`, `${TS}.GetModelMetadataResponse`],
  },
  [`${TS}.ModelService`]: {
    GetModelStatus: [`${TS}.GetModelStatusRequest`, `${TS}.GetModelStatusResponse`],
    HandleReloadConfigRequest: [`${TS}.ReloadConfigRequest`, `${TS}.ReloadConfigResponse`],
  },
};

// ---------- proto/ as protobufjs sees it (independent of the ts-proto code the server uses) ----------

const tfFiles = ['tensorflow', 'tensorflow_serving'].flatMap((dir) =>
  readdirSync(join(PROTO_ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.proto'))
    .map((e) => relative(PROTO_ROOT, join(e.parentPath, e.name))),
);
const root = new protobuf.Root();
// google/protobuf/* come bundled with protobufjs.
root.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : join(PROTO_ROOT, target));
root.loadSync(tfFiles, { keepCase: true });
root.resolveAll();

const strip = (name: string) => name.replace(/^\./, '');

/** A declared field written the way the table writes it. */
function describe(field: protobuf.Field): FieldLine {
  const type = field.resolvedType ? strip(field.resolvedType.fullName) : field.type;
  const oneof = field.partOf;
  const explicit = (field.options as Record<string, unknown> | undefined)?.proto3_optional === true;
  const label = field instanceof protobuf.MapField ? `map<${field.keyType}>` : field.repeated ? 'rep' : explicit ? 'opt' : oneof ? `oneof:${oneof.name}` : '';
  return `${field.name} ${field.id} ${type}${label ? ` ${label}` : ''}`;
}

function allTypes(ns: protobuf.NamespaceBase): protobuf.ReflectionObject[] {
  return ns.nestedArray.flatMap((o) => [o, ...(o instanceof protobuf.Namespace ? allTypes(o) : [])]);
}
const declared = allTypes(root).filter((o) => !strip(o.fullName).startsWith('google.'));

test('every message has exactly the spec’s fields: numbers, types, labels and oneofs', () => {
  for (const [name, fields] of Object.entries(MESSAGES)) {
    const type = root.lookupType(name);
    const ours = type.fieldsArray.map(describe).sort();
    assert.deepEqual(ours, [...fields].sort(), name);
  }
});

test('reserved numbers are reserved, and no field reuses one', () => {
  for (const [name, numbers] of Object.entries(RESERVED)) {
    const type = root.lookupType(name);
    const reserved = (type.reserved ?? []).flatMap((range) => {
      if (!Array.isArray(range)) return []; // a reserved name
      const [from, to] = range as [number, number];
      return Array.from({ length: to - from + 1 }, (_, i) => from + i);
    });
    assert.deepEqual(reserved.sort(), numbers, name);
    for (const id of numbers) assert.equal(type.fieldsById[id], undefined, `${name} field ${id}`);
  }
});

test('fields left out on purpose are really absent, and their numbers unused', () => {
  for (const [name, fields] of Object.entries(MISSING_ON_PURPOSE)) {
    const type = root.lookupType(name);
    for (const field of fields) {
      const [fieldName, id] = field.split(' ');
      assert.equal(type.fields[fieldName!], undefined, `${name}.${fieldName}`);
      assert.equal(type.fieldsById[Number(id)], undefined, `${name} field ${id}`);
    }
  }
});

test('every enum has exactly the spec’s values', () => {
  for (const [name, values] of Object.entries(ENUMS)) {
    assert.deepEqual({ ...root.lookupEnum(name).values }, values, name);
  }
  assert.equal(Object.keys(ENUMS['tensorflow.DataType']!).length, 34 + 33);
});

test('both services have exactly the spec’s unary methods', () => {
  for (const [name, methods] of Object.entries(SERVICES)) {
    const service = root.lookupService(name);
    const ours = Object.fromEntries(
      service.methodsArray.map((m) => {
        assert.ok(!m.requestStream && !m.responseStream, `${name}.${m.name} is unary`);
        return [m.name, [strip(m.resolvedRequestType!.fullName), strip(m.resolvedResponseType!.fullName)]];
      }),
    );
    assert.deepEqual(ours, methods, name);
  }
});

test('proto/ declares under tensorflow.* exactly the messages, enums and services of the spec', () => {
  const known = new Set([...Object.keys(MESSAGES), ...Object.keys(ENUMS), ...Object.keys(SERVICES)]);
  const named = declared.filter((o) => o instanceof protobuf.Type || o instanceof protobuf.Enum || o instanceof protobuf.Service).map((o) => strip(o.fullName));
  assert.deepEqual(named.sort(), [...known].sort());
});

test('GetModelStatusResponse keeps its snake_case JSON name, as upstream declares it', () => {
  const field = root.lookupType(`${TS}.GetModelStatusResponse`).fields.model_version_status!;
  assert.equal((field.options as Record<string, unknown>).json_name, 'model_version_status');
});
