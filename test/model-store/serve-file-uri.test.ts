import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, waitFor, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';

type PredictResponse = { outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } };
type StatusResponse = { model_version_status: Array<{ version: string; state: string }> };

const input = (value: number) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: '1' }, { size: '1' }] },
  tensor_content: Buffer.from(Float32Array.from([value]).buffer),
});

describe('maas serve --model_base_path=file://…', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  // A space in the directory: the URI carries it as %20.
  const root = join(makeTempDir(), 'model store');
  const adderPath = join(root, 'adder');
  const adderUri = pathToFileURL(adderPath).href;

  before(async () => {
    writeModelVersion(adderPath, 1, addConstantModel(1));
    writeFileSync(join(adderPath, 'runtime.json'), JSON.stringify({ instances: 1 }));
    server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--model_name=adder', `--model_base_path=${adderUri}`, '--file_system_poll_wait_seconds=1']);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  const predict = async (name = 'adder') => {
    const response = await callUnary<PredictResponse>(clients.prediction, 'Predict', { model_spec: { name }, inputs: { x: input(10) } });
    return { version: response.model_spec.version.value, value: new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0] };
  };
  const versions = async (name = 'adder') =>
    (await callUnary<StatusResponse>(clients.model, 'GetModelStatus', { model_spec: { name } })).model_version_status.map((s) => `${s.version}:${s.state}`);
  const reload = (configs: Array<{ name: string; base_path: string }>) =>
    callUnary(clients.model, 'HandleReloadConfigRequest', { config: { model_config_list: { config: configs } } });

  test('serves the versions under a file:// URI and picks up a new one', async () => {
    assert.deepEqual(await predict(), { version: '1', value: 11 });
    assert.match(server.log(), new RegExp(`loaded adder:1 from ${adderUri.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/1/model\\.onnx`));
    const staging = join(makeTempDir(), '2');
    writeModelVersion(join(staging, '..'), 2, addConstantModel(2));
    renameSync(staging, join(adderPath, '2'));
    await waitFor('version 2', async () => (await versions()).includes('2:AVAILABLE'));
    assert.deepEqual(await predict(), { version: '2', value: 12 });
  });

  test('a reload may mix paths and URIs; relative paths and unknown schemes are refused in TF Serving’s words', async () => {
    const plainPath = join(root, 'plain');
    writeModelVersion(plainPath, 4, addConstantModel(4));
    await reload([{ name: 'adder', base_path: adderUri }, { name: 'plain', base_path: plainPath }]);
    assert.deepEqual(await predict('plain'), { version: '4', value: 14 });
    await assert.rejects(
      reload([{ name: 'adder', base_path: 'models/adder' }]),
      (e: UnaryError) => e.code === grpc.status.INVALID_ARGUMENT && e.details === 'Expected model adder to have an absolute path or URI; got base_path()=models/adder',
    );
    await assert.rejects(
      reload([{ name: 'adder', base_path: 'gs://bucket/adder' }]),
      (e: UnaryError) => e.code === grpc.status.UNIMPLEMENTED && e.details.startsWith("File system scheme 'gs' not implemented (file: 'gs://bucket/adder')"),
    );
    assert.deepEqual(await predict('plain'), { version: '4', value: 14 }, 'the refused reloads changed nothing');
  });

  test('maas serve refuses a base path it cannot read before it loads anything', async () => {
    await assert.rejects(
      startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--model_name=m', '--model_base_path=hdfs://namenode/models/m']),
      /File system scheme 'hdfs' not implemented/,
    );
  });
});
