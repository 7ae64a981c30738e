import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startLocalRedis, type LocalRedis } from '@maas/cli';
import { ClusterState } from '@maas/cluster-state';
import * as grpc from '@grpc/grpc-js';
import { addConstantModel, callUnary, loadTfServingClients, makeTempDir, startMaas, type ServeProcess, type UnaryError } from '@maas/test-support';
import { startFakeS3, type FakeS3 } from './fake-s3-server.js';

type PredictResponse = { outputs: Record<string, { tensor_content: Buffer }>; model_spec: { version: { value: string } } };

describe('a cluster worker loading from s3:// reports the content hash of each version', () => {
  let redis: LocalRedis;
  let s3: FakeS3;
  let cluster: ServeProcess;
  let state: ClusterState;
  const model = addConstantModel(3);

  before(async () => {
    redis = await startLocalRedis();
    s3 = await startFakeS3();
    s3.createBucket('bucket');
    s3.put('bucket', 'models/adder/3/model.onnx', model);
    cluster = await startMaas(
      ['up', '--workers=1', `--redis=${redis.url}`, '--port=0', '--rest_api_port=0', '--model_name=adder', '--model_base_path=s3://bucket/models/adder'],
      { env: { ...s3.env, MAAS_MODEL_CACHE_DIR: join(makeTempDir(), 'cache') } },
    );
    state = ClusterState.connect(redis.url);
  });

  after(async () => {
    await cluster?.stop();
    await state?.close();
    await s3?.close();
    await redis?.stop();
  });

  test('predictions go through the scheduler and the report carries sha256 of the bytes in the bucket', async () => {
    const clients = loadTfServingClients(`127.0.0.1:${cluster.grpcPort}`);
    const predict = () =>
      callUnary<PredictResponse>(clients.prediction, 'Predict', {
        model_spec: { name: 'adder' },
        inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from([1]).buffer) } },
      });
    try {
      // Placement and loading follow start-up: UNAVAILABLE until the replica is ready.
      let response: PredictResponse | undefined;
      for (let attempt = 0; !response && attempt < 150; attempt++) {
        response = await predict().catch(async (error: UnaryError) => {
          if (error.code !== grpc.status.UNAVAILABLE) throw error;
          await new Promise((r) => setTimeout(r, 200));
          return undefined;
        });
      }
      assert.ok(response, 'the model became ready through the scheduler');
      assert.equal(response.model_spec.version.value, '3');
      assert.equal(new Float32Array(new Uint8Array(response.outputs.y!.tensor_content).buffer)[0], 4);
    } finally {
      clients.close();
    }
    const [worker] = await state.liveWorkers();
    const version = worker?.models.find((m) => m.name === 'adder')?.versions.find((v) => v.version === 3);
    assert.equal(version?.contentHash, `sha256:${createHash('sha256').update(model).digest('hex')}`);
  });
});
