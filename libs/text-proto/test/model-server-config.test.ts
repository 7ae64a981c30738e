import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FileSystemStoragePathSourceConfig_ServableVersionPolicy,
  FileSystemStoragePathSourceConfig_ServableVersionPolicy_All,
  FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest,
  FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific,
  LogCollectorConfig,
  LoggingConfig,
  ModelConfig,
  ModelConfigList,
  ModelServerConfig,
  ModelType,
  SamplingConfig,
  SamplingConfig_PerTaskSamplingConfig,
} from '@maas/protos';
import {
  ALL_SCHEMA,
  LATEST_SCHEMA,
  LOG_COLLECTOR_CONFIG_SCHEMA,
  LOGGING_CONFIG_SCHEMA,
  MODEL_CONFIG_LIST_SCHEMA,
  MODEL_CONFIG_SCHEMA,
  MODEL_SERVER_CONFIG_SCHEMA,
  PER_TASK_SAMPLING_CONFIG_SCHEMA,
  SAMPLING_CONFIG_SCHEMA,
  SERVABLE_VERSION_POLICY_SCHEMA,
  SPECIFIC_SCHEMA,
  defaultMessage,
  parseModelServerConfig,
  type MessageSchema,
} from '../src/index.js';
import { assertTextFormatError } from './helpers.js';

/** A ModelConfig with ts-proto's own defaults (from the generated code, not from this package) under `fields`. */
function model(fields: Partial<ModelConfig>): ModelConfig {
  return { ...ModelConfig.fromJSON({}), ...fields };
}

function configs(text: string): ModelConfig[] {
  const parsed = parseModelServerConfig(text);
  assert.equal(parsed.customModelConfig, undefined);
  assert.ok(parsed.modelConfigList, 'model_config_list is set');
  return parsed.modelConfigList.config;
}

function policy(text: string): FileSystemStoragePathSourceConfig_ServableVersionPolicy | undefined {
  return configs(`model_config_list { config { name: "m" model_version_policy { ${text} } } }`)[0]?.modelVersionPolicy;
}

const noPolicy = { latest: undefined, all: undefined, specific: undefined };

test('the example config of spec §9 parses to the expected ModelServerConfig', () => {
  const text =
    "model_config_list { config { name: 'a' base_path: '/models/a' model_platform: 'tensorflow' model_version_policy { specific { versions: 42 versions: 43 } } version_labels { key: 'stable' value: 42 } version_labels { key: 'canary' value: 43 } } }";
  assert.deepEqual(parseModelServerConfig(text), {
    modelConfigList: {
      config: [
        model({
          name: 'a',
          basePath: '/models/a',
          modelPlatform: 'tensorflow',
          modelVersionPolicy: { ...noPolicy, specific: { versions: [42n, 43n] } },
          versionLabels: { stable: 42n, canary: 43n },
        }),
      ],
    },
    customModelConfig: undefined,
  });
});

test('all three version policies, and no policy at all', () => {
  assert.deepEqual(policy('latest { num_versions: 3 }'), { ...noPolicy, latest: { numVersions: 3 } });
  assert.deepEqual(policy('latest {}'), { ...noPolicy, latest: { numVersions: 0 } });
  assert.deepEqual(policy('all {}'), { ...noPolicy, all: {} });
  assert.deepEqual(policy('all: < >'), { ...noPolicy, all: {} });
  assert.deepEqual(policy('specific { versions: 1 versions: 2 }'), { ...noPolicy, specific: { versions: [1n, 2n] } });
  assert.deepEqual(policy('specific { versions: [1, 2] versions: 3 }'), { ...noPolicy, specific: { versions: [1n, 2n, 3n] } });
  assert.deepEqual(policy('specific { versions: 9223372036854775807 }'), { ...noPolicy, specific: { versions: [9223372036854775807n] } });
  assert.deepEqual(policy(''), noPolicy);
  assert.equal(configs('model_config_list { config { name: "m" } }')[0]?.modelVersionPolicy, undefined);
});

test('version labels: several, list syntax, the last value of a key wins, and any key is an own entry', () => {
  const [labelled] = configs(`
    model_config_list {
      config {
        name: "m"
        version_labels { key: "stable" value: 1 }
        version_labels: [{ key: "canary" value: 2 }, < key: 'beta', value: 0x10 >]
        version_labels { key: "stable" value: 3 }
        version_labels { value: 7 }
        version_labels { key: "__proto__" value: 5 }
      }
    }`);
  assert.ok(labelled);
  assert.deepEqual(Object.entries(labelled.versionLabels), [
    ['stable', 3n], ['canary', 2n], ['beta', 16n], ['', 7n], ['__proto__', 5n],
  ]);
  assert.equal(Object.getPrototypeOf(labelled.versionLabels), Object.prototype);
});

test('several models with every ModelConfig field, comments and both quote styles', () => {
  const text = `
# Two models.
model_config_list {
  config {
    name: 'text_direction'            # single quotes
    base_path: "/models/text_direction"
    model_platform: "onnx"
    model_version_policy { latest { num_versions: 2 } }
  }
  config: {
    name: "ocr\\tv2"                   # escape inside double quotes
    base_path: '/models/o' "cr"        # adjacent literals concatenate
    model_type: TENSORFLOW
    logging_config {
      log_collector_config { type: "file" filename_prefix: "/tmp/log" }
      sampling_config {
        sampling_rate: 0.25
        attributes: 3
        per_task_sampling_configs { dc: "us" task_index: 0 sampling_rate: 1 }
        per_task_sampling_configs { dc: "eu" sampling_rate: 1e-2 }
      }
      custom_logging_config { type_url: "type.googleapis.com/x.Y" value: "\\001\\002" }
    }
  };
  config { name: "third" model_type: 2 }
}`;
  assert.deepEqual(configs(text), [
    model({
      name: 'text_direction',
      basePath: '/models/text_direction',
      modelPlatform: 'onnx',
      modelVersionPolicy: { ...noPolicy, latest: { numVersions: 2 } },
    }),
    model({
      name: 'ocr\tv2',
      basePath: '/models/ocr',
      modelType: ModelType.TENSORFLOW,
      loggingConfig: {
        logCollectorConfig: { type: 'file', filenamePrefix: '/tmp/log' },
        samplingConfig: {
          samplingRate: 0.25,
          attributes: 3,
          perTaskSamplingConfigs: [
            { dc: 'us', taskIndex: 0, samplingRate: 1 },
            { dc: 'eu', taskIndex: undefined, samplingRate: 0.01 },
          ],
        },
        customLoggingConfig: { typeUrl: 'type.googleapis.com/x.Y', value: new Uint8Array([1, 2]) },
      },
    }),
    model({ name: 'third', modelType: ModelType.OTHER }),
  ]);
});

test('an empty file and an empty list give ts-proto defaults', () => {
  assert.deepEqual(parseModelServerConfig(''), ModelServerConfig.fromJSON({}));
  assert.deepEqual(parseModelServerConfig('# only a comment\n'), ModelServerConfig.fromJSON({}));
  assert.deepEqual(parseModelServerConfig('model_config_list {}'), { modelConfigList: { config: [] }, customModelConfig: undefined });
  assert.deepEqual(configs('model_config_list { config {} }'), [ModelConfig.fromJSON({})]);
});

test('every schema lists exactly the fields of its ts-proto message, with the same defaults', () => {
  const pairs: Array<[MessageSchema, { fromJSON(o: unknown): unknown }]> = [
    [MODEL_SERVER_CONFIG_SCHEMA, ModelServerConfig],
    [MODEL_CONFIG_LIST_SCHEMA, ModelConfigList],
    [MODEL_CONFIG_SCHEMA, ModelConfig],
    [SERVABLE_VERSION_POLICY_SCHEMA, FileSystemStoragePathSourceConfig_ServableVersionPolicy],
    [LATEST_SCHEMA, FileSystemStoragePathSourceConfig_ServableVersionPolicy_Latest],
    [ALL_SCHEMA, FileSystemStoragePathSourceConfig_ServableVersionPolicy_All],
    [SPECIFIC_SCHEMA, FileSystemStoragePathSourceConfig_ServableVersionPolicy_Specific],
    [LOGGING_CONFIG_SCHEMA, LoggingConfig],
    [LOG_COLLECTOR_CONFIG_SCHEMA, LogCollectorConfig],
    [SAMPLING_CONFIG_SCHEMA, SamplingConfig],
    [PER_TASK_SAMPLING_CONFIG_SCHEMA, SamplingConfig_PerTaskSamplingConfig],
  ];
  for (const [schema, generated] of pairs) {
    const expected = generated.fromJSON({}) as object;
    assert.deepEqual(Object.keys(defaultMessage(schema) as object).sort(), Object.keys(expected).sort(), schema.fullName);
    assert.deepEqual(defaultMessage(schema), expected, schema.fullName);
  }
});

test('parsed configs survive a ts-proto binary round trip unchanged', () => {
  const parsed = parseModelServerConfig(`
    model_config_list {
      config { name: "a" base_path: "/m/a" model_version_policy { specific { versions: [-1, 5] } } version_labels { key: "x" value: -9 } }
      config { name: "b" model_type: OTHER logging_config { sampling_config { sampling_rate: 0.5 per_task_sampling_configs { task_index: -3 } } } }
    }`);
  assert.deepEqual(ModelServerConfig.decode(ModelServerConfig.encode(parsed).finish()), parsed);
});

test('custom_model_config is recorded as an Any, in either text form', () => {
  assert.deepEqual(parseModelServerConfig('custom_model_config { type_url: "type.googleapis.com/foo.Bar" value: "\\x01" }'), {
    modelConfigList: undefined,
    customModelConfig: { typeUrl: 'type.googleapis.com/foo.Bar', value: new Uint8Array([1]) },
  });
  assert.deepEqual(parseModelServerConfig('custom_model_config { [type.googleapis.com/foo.Bar] { anything: [1, 2] nested { x: "y" } } }'), {
    modelConfigList: undefined,
    customModelConfig: { typeUrl: 'type.googleapis.com/foo.Bar', value: new Uint8Array() },
  });
  assert.deepEqual(parseModelServerConfig('custom_model_config {}').customModelConfig, { typeUrl: '', value: new Uint8Array() });
});

test('unknown fields name the field, the enclosing message type and the position', () => {
  const cases: Array<[string, number, number, string, string]> = [
    ['model_config {}', 1, 1, 'model_config', 'tensorflow.serving.ModelServerConfig'],
    ['model_config_list {\n  config {\n    name: "a"\n    basepath: "/x"\n  }\n}', 4, 5, 'basepath', 'tensorflow.serving.ModelConfig'],
    ['model_config_list { models {} }', 1, 21, 'models', 'tensorflow.serving.ModelConfigList'],
    ['model_config_list { config { model_version_policy { newest {} } } }', 1, 53, 'newest', 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy'],
    ['model_config_list { config { model_version_policy { latest { versions: 1 } } } }', 1, 62, 'versions', 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.Latest'],
    ['model_config_list { config { model_version_policy { all { x: 1 } } } }', 1, 59, 'x', 'tensorflow.serving.FileSystemStoragePathSourceConfig.ServableVersionPolicy.All'],
    ['model_config_list { config { version_labels { key: "a" val: 1 } } }', 1, 56, 'val', 'tensorflow.serving.ModelConfig.VersionLabelsEntry'],
    ['model_config_list { config { logging_config { sampling_config { rate: 1 } } } }', 1, 65, 'rate', 'tensorflow.serving.SamplingConfig'],
    ['custom_model_config { typeurl: "x" }', 1, 23, 'typeurl', 'google.protobuf.Any'],
  ];
  for (const [text, line, column, field, type] of cases) {
    assertTextFormatError(() => parseModelServerConfig(text), line, column, new RegExp(`^message type "${type.replaceAll('.', '\\.')}" has no field named "${field}"$`));
  }
  assertTextFormatError(
    () => parseModelServerConfig('model_config_list { [pkg.ext]: 1 }'),
    1, 21, /^message type "tensorflow\.serving\.ModelConfigList" has no field named \[pkg\.ext\]$/,
  );
});

test('wrong value kinds name the field and message and point at the value', () => {
  const inConfig = (body: string) => `model_config_list {\n  config {\n    ${body}\n  }\n}`;
  const cases: Array<[string, number, number, RegExp]> = [
    [inConfig('name: 42'), 3, 11, /^invalid value for field "name" of message type "tensorflow\.serving\.ModelConfig": expected a string but found number 42$/],
    [inConfig('base_path: /models'), 3, 16, /^unexpected character "\/"$/],
    [inConfig('base_path: models'), 3, 16, /field "base_path" .*expected a string but found identifier models$/],
    [inConfig('name { }'), 3, 10, /field "name" .*expected a string but found a message$/],
    [inConfig('model_version_policy: "latest"'), 3, 27, /field "model_version_policy" .*expected a message of type "tensorflow\.serving\.FileSystemStoragePathSourceConfig\.ServableVersionPolicy" in '\{ \}' but found string "latest"$/],
    [inConfig('model_version_policy { latest { num_versions: "2" } }'), 3, 51, /field "num_versions" of message type "[^"]+\.Latest": expected an integer \(uint32\) but found string "2"$/],
    [inConfig('model_version_policy { latest { num_versions: 1.5 } }'), 3, 51, /expected an integer \(uint32\) but found number 1\.5$/],
    [inConfig('model_version_policy { latest { num_versions: -1 } }'), 3, 51, /field "num_versions" .*: -1 is out of range for uint32$/],
    [inConfig('model_version_policy { latest { num_versions: 4294967296 } }'), 3, 51, /4294967296 is out of range for uint32$/],
    [inConfig('model_version_policy { specific { versions: 9223372036854775808 } }'), 3, 49, /field "versions" .*9223372036854775808 is out of range for int64$/],
    [inConfig('model_version_policy { specific { versions: [1, "2"] } }'), 3, 53, /field "versions" .*expected an integer \(int64\) but found string "2"$/],
    [inConfig('model_version_policy { specific { versions: true } }'), 3, 49, /expected an integer \(int64\) but found identifier true$/],
    [inConfig('version_labels: 3'), 3, 21, /field "version_labels" .*expected a map entry such as '\{ key: \.\.\. value: \.\.\. \}' but found number 3$/],
    [inConfig('version_labels { key: 1 value: 2 }'), 3, 27, /field "key" of message type "tensorflow\.serving\.ModelConfig\.VersionLabelsEntry": expected a string but found number 1$/],
    [inConfig('version_labels { key: "a" value: "1" }'), 3, 38, /field "value" .*expected an integer \(int64\) but found string "1"$/],
    [inConfig('model_type: PYTORCH'), 3, 17, /^unknown value "PYTORCH" for enum "tensorflow\.serving\.ModelType" in field "model_type"/],
    [inConfig('model_type: 7'), 3, 17, /^unknown value 7 for enum "tensorflow\.serving\.ModelType"/],
    [inConfig('model_type: -TENSORFLOW'), 3, 17, /expected an enum value of "tensorflow\.serving\.ModelType" but found identifier -TENSORFLOW$/],
    [inConfig('model_type: "TENSORFLOW"'), 3, 17, /expected an enum value of "tensorflow\.serving\.ModelType" but found string "TENSORFLOW"$/],
    [inConfig('logging_config { sampling_config { sampling_rate: "0.5" } }'), 3, 55, /field "sampling_rate" .*expected a number \(double\) but found string "0\.5"$/],
    [inConfig('logging_config { sampling_config { sampling_rate: half } }'), 3, 55, /expected a number \(double\) but found identifier half$/],
    [inConfig('logging_config { sampling_config { per_task_sampling_configs { task_index: 2147483648 } } }'), 3, 80, /2147483648 is out of range for int32$/],
    [inConfig('name: "\\xff"'), 3, 11, /field "name" .*: string is not valid UTF-8$/],
    ['model_config_list: 1', 1, 20, /field "model_config_list" .*expected a message of type "tensorflow\.serving\.ModelConfigList" in '\{ \}' but found number 1$/],
    ['custom_model_config: "x"', 1, 22, /expected a message of type "google\.protobuf\.Any" in '\{ \}' but found string "x"$/],
    ['custom_model_config { type_url: 1 }', 1, 33, /field "type_url" of message type "google\.protobuf\.Any": expected a string but found number 1$/],
  ];
  for (const [text, line, column, reason] of cases) assertTextFormatError(() => parseModelServerConfig(text), line, column, reason);
});

test('singular fields given twice, oneof conflicts and lists for singular fields are errors', () => {
  const cases: Array<[string, number, number, RegExp]> = [
    ['model_config_list { config { name: "a"\n name: "b" } }', 2, 2, /^non-repeated field "name" of message type "tensorflow\.serving\.ModelConfig" is specified multiple times$/],
    ['model_config_list {}\nmodel_config_list {}', 2, 1, /^non-repeated field "model_config_list" .* is specified multiple times$/],
    ['model_config_list {}\n  custom_model_config {}', 2, 3, /^field "custom_model_config" is specified along with field "model_config_list", another member of oneof "config" of message type "tensorflow\.serving\.ModelServerConfig"$/],
    ['model_config_list { config { model_version_policy { latest {} all {} } } }', 1, 63, /^field "all" is specified along with field "latest", another member of oneof "policy_choice"/],
    ['model_config_list { config { model_version_policy { specific {} specific {} } } }', 1, 65, /^non-repeated field "specific" .* is specified multiple times$/],
    ['model_config_list: [{}]', 1, 1, /^field "model_config_list" of message type "tensorflow\.serving\.ModelServerConfig" is not repeated, so it cannot take a list$/],
    ['model_config_list { config { name: ["a"] } }', 1, 30, /^field "name" of message type "tensorflow\.serving\.ModelConfig" is not repeated, so it cannot take a list$/],
    ['model_config_list { config { version_labels { key: "a" key: "b" } } }', 1, 56, /^non-repeated field "key" of message type "tensorflow\.serving\.ModelConfig\.VersionLabelsEntry" is specified multiple times$/],
    ['custom_model_config { [type.googleapis.com/a.B] {} type_url: "x" }', 1, 52, /^google\.protobuf\.Any in expanded form .* must have exactly one field$/],
    ['custom_model_config { [a.B] {} }', 1, 23, /^expanded google\.protobuf\.Any needs a type URL such as \[type\.googleapis\.com\/a\.B\]$/],
    ['custom_model_config { [type.googleapis.com/a.B]: 1 }', 1, 23, /^expanded google\.protobuf\.Any \[type\.googleapis\.com\/a\.B\] must be followed by a message in '\{ \}'$/],
  ];
  for (const [text, line, column, reason] of cases) assertTextFormatError(() => parseModelServerConfig(text), line, column, reason);
});

test('syntax errors in a config file keep their line and column', () => {
  assertTextFormatError(
    () => parseModelServerConfig('model_config_list {\n  config {\n    name: "a"\n  }\n'),
    5, 1, /^expected '\}' but found end of input$/,
  );
  assertTextFormatError(
    () => parseModelServerConfig('model_config_list {\n  config {\n    name "a"\n  }\n}'),
    3, 10, /^expected ':' or '\{' but found string "a"$/,
  );
  assertTextFormatError(
    () => parseModelServerConfig('model_config_list {\n  config {\n    name: "a" base_path: "/x"  }\n  } :\n}'),
    4, 5, /^expected a field name but found ':'$/,
  );
});
