/**
 * `maas serve`'s configurable limits (gRPC message size each way, elements per input tensor) and an
 * input that only onnxruntime can refuse, through a TF Serving client against a child process.
 * Each refusal must carry TF Serving's status and name the problem, and the server must keep serving.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { buildOnnxModel, callUnary, loadTfServingClients, makeTempDir, startMaas, writeModelVersion, type ServeProcess, type UnaryError } from '@maas/test-support';

/** sum = a + b with numpy broadcasting and every dim symbolic, so only onnxruntime checks the shapes. */
function broadcastAddModel(): Uint8Array {
  return buildOnnxModel({
    inputs: [
      { name: 'a', type: 'float32', shape: ['a0', 'a1'] },
      { name: 'b', type: 'float32', shape: ['b0', 'b1'] },
    ],
    outputs: [{ name: 'sum', type: 'float32', shape: ['s0', 's1'] }],
    nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['sum'] }],
  });
}

const MESSAGE_LIMIT = 64 * 1024;
const ELEMENT_LIMIT = 10_000;

const tensor = (rows: number, cols: number, value = 1) => ({
  dtype: 'DT_FLOAT',
  tensor_shape: { dim: [{ size: String(rows) }, { size: String(cols) }] },
  tensor_content: Buffer.from(new Float32Array(rows * cols).fill(value).buffer),
});

test('by default gRPC messages may be 256 MiB each way', () => {
  const help = spawnSync(process.execPath, [join(import.meta.dirname, '../../bin/maas.js'), 'serve', '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, new RegExp(`--grpc_max_message_bytes=${256 * 1024 * 1024}\\n`));
});

describe('maas serve limits', () => {
  let server: ServeProcess;
  let clients: ReturnType<typeof loadTfServingClients>;

  before(async () => {
    const basePath = join(makeTempDir(), 'adder');
    writeModelVersion(basePath, 1, broadcastAddModel());
    server = await startMaas([
      'serve', '--port=0', '--grpc_host=127.0.0.1', '--rest_api_port=0', '--metrics_port=0', '--model_name=adder', `--model_base_path=${basePath}`,
      `--grpc_max_message_bytes=${MESSAGE_LIMIT}`, `--max_tensor_elements=${ELEMENT_LIMIT}`,
    ]);
    clients = loadTfServingClients(`127.0.0.1:${server.grpcPort}`);
  });

  after(async () => {
    clients?.close();
    await server?.stop();
  });

  const predict = (a: object, b: object) =>
    callUnary<{ outputs: { sum: { tensor_shape: { dim: Array<{ size: string }> }; tensor_content: Buffer } } }>(
      clients.prediction, 'Predict', { model_spec: { name: 'adder' }, inputs: { a, b } }, { deadlineMs: 10_000 });

  async function stillServing(): Promise<void> {
    const response = await predict(tensor(2, 1, 1), tensor(1, 3, 2));
    assert.deepEqual(response.outputs.sum.tensor_shape.dim.map((d) => d.size), ['2', '3']);
    assert.deepEqual(Array.from(new Float32Array(new Uint8Array(response.outputs.sum.tensor_content).buffer)), [3, 3, 3, 3, 3, 3]);
  }

  const refused = (code: grpc.status, message: RegExp) => (error: UnaryError) => {
    assert.equal(error.code, code, `code for "${error.details}"`);
    assert.match(error.details, message);
    return true;
  };

  test('a request over --grpc_max_message_bytes is RESOURCE_EXHAUSTED', async () => {
    // 80 KiB of floats in one input: over the 64 KiB limit, under the element limit.
    await assert.rejects(predict(tensor(1, 20_000), tensor(1, 1)), refused(grpc.status.RESOURCE_EXHAUSTED, /message larger than max/i));
    await stillServing();
  });

  test('a response over --grpc_max_message_bytes is RESOURCE_EXHAUSTED, from a small request', async () => {
    // [150, 1] + [1, 150] broadcasts to 150 x 150 floats: 90 KB out of 1.2 KB in.
    await assert.rejects(predict(tensor(150, 1), tensor(1, 150)), refused(grpc.status.RESOURCE_EXHAUSTED, /message larger than max/i));
    await stillServing();
  });

  test('an input over --max_tensor_elements is INVALID_ARGUMENT naming the alias, the count and the limit', async () => {
    // 10,001 elements in 20 bytes: a short float_val fills the shape, so only the element limit stops it.
    const big = { dtype: 'DT_FLOAT', tensor_shape: { dim: [{ size: '1' }, { size: String(ELEMENT_LIMIT + 1) }] }, float_val: [1] };
    await assert.rejects(predict(big, tensor(1, 1)), refused(grpc.status.INVALID_ARGUMENT, new RegExp(`\\ba\\b.*${ELEMENT_LIMIT + 1} elements; expected at most ${ELEMENT_LIMIT}`)));
    await stillServing();
  });

  test('shapes only onnxruntime can refuse (broadcasting) are INVALID_ARGUMENT, not INTERNAL or UNKNOWN', async () => {
    await assert.rejects(predict(tensor(2, 3), tensor(2, 2)), refused(grpc.status.INVALID_ARGUMENT, /adder:1: onnxruntime rejected the input: .*broadcast/i));
    await stillServing();
  });
});
