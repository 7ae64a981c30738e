import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { FailedPreconditionError } from '@maas/errors';
import { addConstantModel, buildOnnxModel } from '@maas/test-support';
import { DynamicBatcher } from '../src/index.js';
import { floatRows, options, recordingRun, settle } from './helpers.js';

let addOne: ort.InferenceSession;
let lookup: ort.InferenceSession;
let sumAll: ort.InferenceSession;

before(async () => {
  addOne = await ort.InferenceSession.create(addConstantModel(1));
  // y = table[x] with table = [0, 10, ..., 90]: an index out of range makes the whole run fail.
  lookup = await ort.InferenceSession.create(
    buildOnnxModel({
      inputs: [{ name: 'x', type: 'int64', shape: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', shape: ['batch', 'n'] }],
      initializers: [{ name: 'table', type: 'float32', dims: [10], values: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90] }],
      nodes: [{ op: 'Gather', inputs: ['table', 'x'], outputs: ['y'], attributes: { axis: 0 } }],
    }),
  );
  // y = sum of all of x, shape [1, 1] whatever the batch: a model that does not batch along dim 0.
  sumAll = await ort.InferenceSession.create(
    buildOnnxModel({
      inputs: [{ name: 'x', type: 'float32', shape: ['batch', 'n'] }],
      outputs: [{ name: 'y', type: 'float32', shape: [1, 1] }],
      nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attributes: { keepdims: 1 } }],
    }),
  );
});

function indices(...values: number[]): ort.Tensor {
  return new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
}

test('one bad request in a batch fails alone; the others are retried on their own and succeed', { timeout: 20_000 }, async () => {
  const rec = recordingRun(lookup);
  const batcher = new DynamicBatcher('lookup:1', options({ maxBatchSize: 8 }), rec.run);
  const [good1, bad, good2] = await Promise.all([
    settle(batcher.submit({ x: indices(1, 2) })),
    settle(batcher.submit({ x: indices(99, 0) })),
    settle(batcher.submit({ x: indices(3, 4) })),
  ]);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [3, 1, 1, 1],
  );
  assert.deepEqual(Array.from(good1.value?.y?.data as Float32Array), [10, 20]);
  assert.deepEqual(Array.from(good2.value?.y?.data as Float32Array), [30, 40]);
  assert.ok(bad.error instanceof Error);
  assert.match(bad.error.message, /out of (data )?bounds|indices/i);
  assert.equal(batcher.queuedRows, 0);
  await batcher.close();
});

test('a request with the wrong dtype fails alone while the others succeed', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8 }), rec.run);
  const wrong = new ort.Tensor('float64', new Float64Array([1, 2]), [1, 2]);
  const [a, bad, b] = await Promise.all([
    settle(batcher.submit({ x: floatRows(1, 2, 0) })),
    settle(batcher.submit({ x: wrong })),
    settle(batcher.submit({ x: floatRows(1, 2, 10) })),
  ]);
  assert.deepEqual(Array.from(a.value?.y?.data as Float32Array), [1, 2]);
  assert.deepEqual(Array.from(b.value?.y?.data as Float32Array), [11, 12]);
  assert.ok(bad.error instanceof Error);
  assert.match(bad.error.message, /type|double|float/i);
  await batcher.close();
});

test('a model whose outputs do not batch along dim 0 fails that batch with a clear error', { timeout: 20_000 }, async () => {
  const rec = recordingRun(sumAll);
  const batcher = new DynamicBatcher('sum:3', options({ maxBatchSize: 8 }), rec.run);
  const results = await Promise.all([settle(batcher.submit({ x: floatRows(1, 2) })), settle(batcher.submit({ x: floatRows(1, 2) }))]);
  assert.equal(rec.calls.length, 1, 'a batch whose outputs do not split must not be retried request by request');
  for (const { error } of results) {
    assert.ok(error instanceof FailedPreconditionError, String(error));
    assert.match(error.message, /sum:3 does not batch along dim 0/);
  }
  await batcher.close();
});

test('a failing run of a lone request rejects just that request', { timeout: 20_000 }, async () => {
  const rec = recordingRun(lookup);
  const batcher = new DynamicBatcher('lookup:1', options({ maxBatchSize: 8 }), rec.run);
  const { error } = await settle(batcher.submit({ x: indices(42) }));
  assert.ok(error instanceof Error);
  assert.equal(rec.calls.length, 1);
  const ok = await batcher.submit({ x: indices(5) });
  assert.deepEqual(Array.from(ok.y?.data as Float32Array), [50]);
  await batcher.close();
});
