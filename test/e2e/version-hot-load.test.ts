import assert from 'node:assert/strict';
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, versionedLoad, waitFor, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';

type PredictResponse = { outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } };
type StatusResponse = { model_version_status: Array<{ version: string; state: string }> };

/** Publishes a version the safe way: write it elsewhere, then rename the directory into place. */
function publishVersion(basePath: string, version: number, addend: number): void {
  const staging = join(makeTempDir(), String(version));
  writeModelVersion(join(staging, '..'), version, addConstantModel(addend));
  renameSync(staging, join(basePath, String(version)));
}

const input = (value: number) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: '1' }, { size: '2' }] },
  tensor_content: Buffer.from(Float32Array.from([value, value]).buffer),
});

describe('version policy and hot loading', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  const basePath = join(makeTempDir(), 'adder');

  before(async () => {
    // Version 3 is the latest; 1 is older; "tmp" is not a version directory.
    writeModelVersion(basePath, 1, addConstantModel(1));
    writeModelVersion(basePath, 3, addConstantModel(3));
    mkdirSync(join(basePath, 'tmp'));
    server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--model_name=adder', `--model_base_path=${basePath}`, '--file_system_poll_wait_seconds=1']);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  const predict = (value: number, version?: number) =>
    callUnary<PredictResponse>(clients.prediction, 'Predict', {
      model_spec: { name: 'adder', ...(version ? { version: { value: String(version) } } : {}) },
      inputs: { x: input(value) },
    });
  const status = () => callUnary<StatusResponse>(clients.model, 'GetModelStatus', { model_spec: { name: 'adder' } });
  const resultOf = (response: PredictResponse) => new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0];

  test('latest 1 serves only the highest version on disk', async () => {
    const response = await predict(10);
    assert.equal(response.model_spec.version.value, '3');
    assert.equal(resultOf(response), 13);
    assert.deepEqual((await status()).model_version_status.map((s) => [s.version, s.state]), [['3', 'AVAILABLE']]);
    await assert.rejects(predict(10, 1), (e: UnaryError) => e.code === grpc.status.NOT_FOUND);
  });

  test('an older version appearing later is not loaded', async () => {
    publishVersion(basePath, 2, 2);
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual((await status()).model_version_status.map((s) => s.version), ['3']);
  });

  test('a new version is swapped in under load with no failed request', async () => {
    const load = versionedLoad(4, async (i) => {
      const response = await predict(i);
      const version = response.model_spec.version.value;
      // Each version adds its own number, so the answer proves which model computed it.
      assert.equal(resultOf(response), i + Number(version));
      return version;
    });
    await new Promise((r) => setTimeout(r, 500));
    publishVersion(basePath, 5, 5);
    await waitFor('version 5 to serve and 3 to unload', async () => {
      const states = (await status()).model_version_status.map((s) => `${s.version}:${s.state}`);
      return states.includes('5:AVAILABLE') && states.includes('3:END');
    });
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    assert.deepEqual(load.failures, []);
    assert.ok((load.seen.get('3') ?? 0) > 0 && (load.seen.get('5') ?? 0) > 0, `both versions answered: ${JSON.stringify([...load.seen])}`);
    assert.equal((await predict(1)).model_spec.version.value, '5');
    assert.deepEqual((await status()).model_version_status.map((s) => [s.version, s.state]), [['5', 'AVAILABLE'], ['3', 'END']]);
  });
});
