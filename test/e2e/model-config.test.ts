import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  addConstantModel,
  callUnary,
  loadTfServingClients,
  makeTempDir,
  startMaas,
  versionedLoad,
  writeModelVersion,
  type ServeProcess,
  type UnaryError,
} from '@maas/test-support';

type PredictResponse = { outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } };
type StatusResponse = { model_version_status: Array<{ version: string; state: string }> };

const root = makeTempDir();
const adderPath = join(root, 'adder');
const doublerPath = join(root, 'doubler');
const tenPath = join(root, 'ten');
// Each version adds its own number (or 10x for "ten"), so answers prove which model ran.
for (const v of [1, 2, 3]) writeModelVersion(adderPath, v, addConstantModel(v));
for (const v of [1, 2]) writeModelVersion(doublerPath, v, addConstantModel(100 * v));
writeModelVersion(tenPath, 7, addConstantModel(70));

const CONFIG = `
# two models, three policies between them
model_config_list {
  config {
    name: 'adder'
    base_path: '${adderPath}'
    model_platform: "onnx"
    model_version_policy { specific { versions: 1 versions: 2 } }
    version_labels { key: 'stable' value: 1 }
    version_labels { key: 'canary' value: 2 }
  }
  config { name: "doubler" base_path: "${doublerPath}" model_version_policy { all {} } }
}
`;

const input = (value: number) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: '1' }, { size: '1' }] },
  tensor_content: Buffer.from(Float32Array.from([value]).buffer),
});

function modelConfig(name: string, basePath: string, extra: object = {}) {
  return { name, base_path: basePath, ...extra };
}

describe('model config file, labels and HandleReloadConfigRequest', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  const configPath = join(root, 'models.config');

  before(async () => {
    writeFileSync(configPath, CONFIG);
    server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=0', `--model_config_file=${configPath}`, '--model_config_file_poll_wait_seconds=1']);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  const predict = async (spec: object) => {
    const response = await callUnary<PredictResponse>(clients.prediction, 'Predict', { model_spec: spec, inputs: { x: input(0) } });
    return { version: response.model_spec.version.value, value: new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0] };
  };
  const versions = async (name: string) =>
    (await callUnary<StatusResponse>(clients.model, 'GetModelStatus', { model_spec: { name } })).model_version_status.map((s) => `${s.version}:${s.state}`);
  const reload = (config: object) => callUnary<{ status: { error_code: string } }>(clients.model, 'HandleReloadConfigRequest', { config, metric_names: ['requests'] });

  test('policies decide which versions load', async () => {
    assert.deepEqual(await versions('adder'), ['2:AVAILABLE', '1:AVAILABLE']);
    assert.deepEqual(await versions('doubler'), ['2:AVAILABLE', '1:AVAILABLE']);
    assert.deepEqual(await predict({ name: 'adder' }), { version: '2', value: 2 });
  });

  test('labels route to their versions; unknown labels are INVALID_ARGUMENT', async () => {
    assert.deepEqual(await predict({ name: 'adder', version_label: 'stable' }), { version: '1', value: 1 });
    assert.deepEqual(await predict({ name: 'adder', version_label: 'canary' }), { version: '2', value: 2 });
    await assert.rejects(predict({ name: 'adder', version_label: 'beta' }), (e: UnaryError) => e.code === grpc.status.INVALID_ARGUMENT && /Unrecognized servable version label: beta/.test(e.details));
  });

  test('bad reloads are refused and the old config keeps serving', async () => {
    const cases: Array<[object, grpc.status, RegExp]> = [
      [{ custom_model_config: { type_url: 'x', value: Buffer.alloc(0) } }, grpc.status.INVALID_ARGUMENT, /Only ModelConfigList is currently supported/],
      [{ model_config_list: { config: [modelConfig('a', adderPath), modelConfig('a', doublerPath)] } }, grpc.status.INVALID_ARGUMENT, /Illegal to list model a multiple times/],
      [{ model_config_list: { config: [modelConfig('a', 'relative/path')] } }, grpc.status.INVALID_ARGUMENT, /absolute path/],
    ];
    for (const [config, code, message] of cases) {
      await assert.rejects(reload(config), (e: UnaryError) => e.code === code && message.test(e.details));
    }
    assert.deepEqual(await predict({ name: 'adder', version_label: 'stable' }), { version: '1', value: 1 });
    assert.deepEqual(await predict({ name: 'doubler', version: { value: '1' } }), { version: '1', value: 100 });
  });

  test('a label on a version that is not loaded is FAILED_PRECONDITION', async () => {
    const config = { model_config_list: { config: [
      modelConfig('adder', adderPath, { model_version_policy: { specific: { versions: ['1', '2'] } }, version_labels: { stable: '3' } }),
      modelConfig('doubler', doublerPath, { model_version_policy: { all: {} } }),
    ] } };
    await assert.rejects(reload(config), (e: UnaryError) => e.code === grpc.status.FAILED_PRECONDITION && /assign label to version 3 of model adder/.test(e.details));
    // The labels stay as they were.
    assert.deepEqual(await predict({ name: 'adder', version_label: 'stable' }), { version: '1', value: 1 });
  });

  test('a reload under load swaps models, policies and labels with no failed request', async () => {
    await reload({ model_config_list: { config: [
      modelConfig('adder', adderPath, { model_version_policy: { specific: { versions: ['1', '2'] } }, version_labels: { stable: '1', canary: '2' } }),
      modelConfig('doubler', doublerPath, { model_version_policy: { all: {} } }),
    ] } });
    const load = versionedLoad(2, async () => (await predict({ name: 'adder', version_label: 'stable' })).version);
    const response = await reload({ model_config_list: { config: [
      modelConfig('adder', adderPath, { model_version_policy: { all: {} }, version_labels: { stable: '1', canary: '3' } }),
      modelConfig('ten', tenPath),
    ] } });
    await load.stop();
    assert.equal(response.status.error_code, 'OK');
    assert.deepEqual(load.failures, []);
    assert.deepEqual(await predict({ name: 'adder', version_label: 'canary' }), { version: '3', value: 3 });
    assert.deepEqual(await predict({ name: 'ten' }), { version: '7', value: 70 });
    await assert.rejects(predict({ name: 'doubler' }), (e: UnaryError) => e.code === grpc.status.NOT_FOUND);
    assert.deepEqual(await versions('doubler'), ['2:END', '1:END']);
  });

  test('an edited config file is applied; a broken edit is reported and ignored', async () => {
    const publish = (text: string) => {
      writeFileSync(`${configPath}.tmp`, text);
      renameSync(`${configPath}.tmp`, configPath);
    };
    publish(`model_config_list { config { name: 'ten' base_path: '${tenPath}' } }`);
    const deadline = Date.now() + 15000;
    while (Date.now() < deadline && (await predict({ name: 'adder' }).then(() => true, () => false))) await new Promise((r) => setTimeout(r, 200));
    await assert.rejects(predict({ name: 'adder' }), (e: UnaryError) => e.code === grpc.status.NOT_FOUND);
    publish(`model_config_list { config { name: 'ten' base_path: '${tenPath}' } } oops`);
    await new Promise((r) => setTimeout(r, 2500));
    assert.match(server.log(), /not applied: .*line 1, column \d+/);
    assert.deepEqual(await predict({ name: 'ten' }), { version: '7', value: 70 });
  });
});

test('a config file that does not parse stops start-up with the line named', async () => {
  const path = join(makeTempDir(), 'bad.config');
  writeFileSync(path, `model_config_list {\n  config {\n    name: 'a'\n    base_pathh: '/x'\n  }\n}\n`);
  await assert.rejects(startMaas(['serve', '--port=0', '--rest_api_port=0', `--model_config_file=${path}`]), (e: Error) =>
    /exited with 1/.test(e.message) && /line 4, column 5/.test(e.message) && /base_pathh/.test(e.message));
});
