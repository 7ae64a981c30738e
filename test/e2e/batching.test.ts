import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { buildOnnxModel, callUnary, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';

/**
 * y = x, and n = the number of rows in the batch that ran (every row gets it), so a response
 * shows how the server batched it: n = ReduceSum(x*0 + 1, axis 0) broadcast back to the rows.
 */
function batchSizeModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [{ name: 'x', type: 'float32', shape: ['batch', 1] }],
    outputs: [
      { name: 'y', type: 'float32', shape: ['batch', 1] },
      { name: 'n', type: 'float32', shape: ['batch', 1] },
    ],
    initializers: [
      { name: 'zero', type: 'float32', dims: [], values: [0] },
      { name: 'one', type: 'float32', dims: [], values: [1] },
      { name: 'axis0', type: 'int64', dims: [1], values: [0] },
    ],
    nodes: [
      { op: 'Identity', inputs: ['x'], outputs: ['y'] },
      { op: 'Mul', inputs: ['x', 'zero'], outputs: ['zeros'] },
      { op: 'Add', inputs: ['zeros', 'one'], outputs: ['ones'] },
      { op: 'ReduceSum', inputs: ['ones', 'axis0'], outputs: ['rows'], attributes: { keepdims: 1 } },
      { op: 'Add', inputs: ['zeros', 'rows'], outputs: ['n'] },
    ],
  });
}

type Response = { outputs: Record<string, { tensor_content: Buffer }> };
const floats = (t: { tensor_content: Buffer }) => Array.from(new Float32Array(new Uint8Array(t.tensor_content).buffer));

async function serveBatching(parameters: string): Promise<{ server: ServeProcess; clients: ReturnType<typeof loadTfServingClients> }> {
  const dir = makeTempDir();
  writeModelVersion(join(dir, 'rows'), 1, batchSizeModel());
  writeFileSync(join(dir, 'batching.config'), parameters);
  const server = await startMaas(['serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=0', '--model_name=rows', `--model_base_path=${join(dir, 'rows')}`, '--enable_batching', `--batching_parameters_file=${join(dir, 'batching.config')}`]);
  return { server, clients: loadTfServingClients(`127.0.0.1:${server.grpcPort}`) };
}

function predict(clients: ReturnType<typeof loadTfServingClients>, values: number[], deadlineMs?: number) {
  return callUnary<Response>(clients.prediction, 'Predict', {
    model_spec: { name: 'rows' },
    inputs: { x: { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: String(values.length) }, { size: '1' }] }, tensor_content: Buffer.from(Float32Array.from(values).buffer) } },
  }, { deadlineMs });
}

describe('dynamic batching through maas serve', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;

  before(async () => {
    ({ server, clients } = await serveBatching(`
      max_batch_size { value: 8 }
      batch_timeout_micros { value: 100000 }
      max_enqueued_batches { value: 4 }
      num_batch_threads { value: 1 }
      allowed_batch_sizes: [4, 8]
    `));
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  test('concurrent requests share a batch and each gets its own rows back', async () => {
    const responses = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((v) => predict(clients, [v])));
    responses.forEach((r, i) => assert.deepEqual(floats(r.outputs.y!), [i + 1]));
    const sizes = responses.map((r) => floats(r.outputs.n!)[0]!);
    assert.ok(Math.max(...sizes) > 1, `some requests ran together: ${sizes}`);
    for (const size of sizes) assert.ok(size === 4 || size === 8, `executed batch sizes are allowed sizes: ${sizes}`);
  });

  test('a partial batch is padded to the next allowed size and leaves after the timeout', async () => {
    const started = Date.now();
    const responses = await Promise.all([predict(clients, [1]), predict(clients, [2, 3])]);
    const elapsed = Date.now() - started;
    assert.deepEqual(responses.map((r) => floats(r.outputs.y!)), [[1], [2, 3]]);
    assert.deepEqual(responses.map((r) => floats(r.outputs.n!)), [[4], [4, 4]], 'three rows padded to 4, padding dropped from answers');
    assert.ok(elapsed >= 80, `waited for the batch timeout (${elapsed} ms)`);
    assert.ok(elapsed < 5000, `but not much longer (${elapsed} ms)`);
  });

  test('a request larger than max_batch_size is refused with TF Serving wording', async () => {
    await assert.rejects(predict(clients, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), (e: UnaryError) =>
      e.code === grpc.status.INVALID_ARGUMENT && /Task size 10 is larger than maximum input batch size 8/.test(e.details));
  });

  test('a batch leaves early when its oldest request would otherwise miss its deadline', async () => {
    const started = Date.now();
    const response = await predict(clients, [7], 60);
    assert.deepEqual(floats(response.outputs.y!), [7]);
    assert.ok(Date.now() - started < 100, 'did not wait the 100 ms batch timeout');
    await assert.rejects(predict(clients, [1], 1), (e: UnaryError) => e.code === grpc.status.DEADLINE_EXCEEDED);
    assert.deepEqual(floats((await predict(clients, [5])).outputs.y!), [5], 'still serving');
  });
});

test('large requests are split across executed batches when splitting is on', async () => {
  const { server, clients } = await serveBatching(`
    max_batch_size { value: 8 }
    batch_timeout_micros { value: 1000 }
    enable_large_batch_splitting { value: true }
    max_execution_batch_size { value: 4 }
  `);
  try {
    const response = await predict(clients, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(floats(response.outputs.y!), [1, 2, 3, 4, 5, 6], 'rows come back in order');
    assert.ok(floats(response.outputs.n!).every((n) => n <= 4), `no executed batch above 4: ${floats(response.outputs.n!)}`);
  } finally {
    clients.close();
    await server.stop();
  }
});

test('a full queue answers UNAVAILABLE at once, naming the model', async () => {
  const { server, clients } = await serveBatching(`
    max_batch_size { value: 1 }
    batch_timeout_micros { value: 300000 }
    max_enqueued_batches { value: 1 }
    num_batch_threads { value: 1 }
  `);
  try {
    const started = Date.now();
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => predict(clients, [i]).then(() => 'OK', (e: UnaryError) => e)));
    const refused = outcomes.filter((o): o is UnaryError => o !== 'OK');
    assert.ok(refused.length > 0, 'some requests were refused');
    for (const error of refused) {
      assert.equal(error.code, grpc.status.UNAVAILABLE);
      assert.match(error.details, /batch scheduling queue to which this task was submitted is full/);
      assert.match(error.details, /model rows:1.*limit 1 batches of 1/);
    }
    assert.ok(outcomes.includes('OK'), 'the queued ones ran');
    assert.ok(Date.now() - started < 10_000);
  } finally {
    clients.close();
    await server.stop();
  }
});
