import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, versionedLoad, waitFor, type ServeProcess } from '@maas/test-support';
import { startFakeS3, type FakeS3 } from './fake-s3-server.js';

type PredictResponse = { outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } };
type StatusResponse = { model_version_status: Array<{ version: string; state: string; status: { error_code: string; error_message: string } }> };

const input = (value: number) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: '1' }, { size: '2' }] },
  tensor_content: Buffer.from(Float32Array.from([value, value]).buffer),
});

describe('maas serve --model_base_path=s3://… against an S3-compatible server', () => {
  let s3: FakeS3;
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;
  const cacheDir = join(makeTempDir(), 'model-cache');
  const modelKey = (version: number, file = 'model.onnx') => `models/adder/${version}/${file}`;

  before(async () => {
    s3 = await startFakeS3();
    s3.createBucket('bucket');
    s3.put('bucket', modelKey(1), addConstantModel(1));
    server = await startMaas(
      ['serve', '--port=0', '--grpc_host=127.0.0.1', '--model_name=adder', '--model_base_path=s3://bucket/models/adder', '--file_system_poll_wait_seconds=1', '--enable_batching', '--enable_per_model_batching_parameters', '--max_num_load_retries=0'],
      { env: { ...s3.env, MAAS_MODEL_CACHE_DIR: cacheDir } },
    );
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
    await s3?.close();
  });

  const predict = (value: number) => callUnary<PredictResponse>(clients.prediction, 'Predict', { model_spec: { name: 'adder' }, inputs: { x: input(value) } });
  const status = () => callUnary<StatusResponse>(clients.model, 'GetModelStatus', { model_spec: { name: 'adder' } });
  const resultOf = (response: PredictResponse) => new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0];
  const downloads = (version: number) => s3.requests.filter((r) => r === `GET bucket/${modelKey(version)}`).length;

  test('serves the version in the bucket, downloaded once into the cache while the bucket is polled', async () => {
    const response = await predict(10);
    assert.equal(response.model_spec.version.value, '1');
    assert.equal(resultOf(response), 11);
    const lists = s3.requests.filter((r) => r === 'LIST bucket models/adder/').length;
    await waitFor('two more polls of the bucket', async () => s3.requests.filter((r) => r === 'LIST bucket models/adder/').length >= lists + 2);
    assert.equal(downloads(1), 1);
    assert.equal(readdirSync(cacheDir).length, 1, 'one cached model file');
    assert.deepEqual(s3.refused, [], 'every request the server made was signed with the key pair from the environment');
  });

  test('a new version uploaded to the bucket is hot-loaded under load with no failed request', async () => {
    const load = versionedLoad(4, async (i) => {
      const response = await predict(i);
      const version = response.model_spec.version.value;
      // Each version adds its own number, so the answer proves which model computed it.
      assert.equal(resultOf(response), i + Number(version));
      return version;
    });
    await new Promise((r) => setTimeout(r, 500));
    s3.put('bucket', modelKey(5), addConstantModel(5));
    await waitFor('version 5 to serve and 1 to unload', async () => {
      const states = (await status()).model_version_status.map((s) => `${s.version}:${s.state}`);
      return states.includes('5:AVAILABLE') && states.includes('1:END');
    });
    await new Promise((r) => setTimeout(r, 300));
    await load.stop();
    assert.deepEqual(load.failures, []);
    assert.ok((load.seen.get('1') ?? 0) > 0 && (load.seen.get('5') ?? 0) > 0, `both versions answered: ${JSON.stringify([...load.seen])}`);
    assert.equal((await predict(1)).model_spec.version.value, '5');
    assert.equal(downloads(5), 1);
  });

  test("a version's batching_params.pbtxt is read from the bucket beside its model", async () => {
    s3.put('bucket', modelKey(9, 'batching_params.pbtxt'), 'max_batch_size { value: nonsense }');
    s3.put('bucket', modelKey(9), addConstantModel(9));
    await waitFor('version 9 to fail on its batching parameters', async () =>
      (await status()).model_version_status.some((s) => s.version === '9' && s.state === 'END' && s.status.error_message !== ''),
    );
    const nine = (await status()).model_version_status.find((s) => s.version === '9')!;
    assert.match(nine.status.error_message, /expected an integer.*nonsense/);
    assert.equal((await predict(1)).model_spec.version.value, '5', 'the previous version keeps serving');
  });

  test('the server logs where each version came from', () => {
    assert.match(server.log(), /loaded adder:5 from s3:\/\/bucket\/models\/adder\/5\/model\.onnx/);
  });
});
