import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { InvalidArgumentError } from '@maas/errors';
import { addConstantModel, identityModel } from '@maas/test-support';
import { DynamicBatcher } from '../src/index.js';
import { floatRows, gate, nextTurn, options, plusOne, recordingRun, settle } from './helpers.js';

let addOne: ort.InferenceSession;
let addOne4d: ort.InferenceSession;
let identityString: ort.InferenceSession;

before(async () => {
  addOne = await ort.InferenceSession.create(addConstantModel(1));
  addOne4d = await ort.InferenceSession.create(addConstantModel(1, ['b', 'c', 'd', 'e']));
  identityString = await ort.InferenceSession.create(identityModel('string'));
});

test('concurrent submits form fewer runs and each caller gets x+1 of its own rows', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 32 }), rec.run);
  const requests = Array.from({ length: 8 }, (_, i) => floatRows(1, 3, i * 10));
  const results = await Promise.all(requests.map((x) => batcher.submit({ x })));
  assert.ok(rec.calls.length < 8, `expected fewer than 8 runs, got ${rec.calls.length}`);
  assert.equal(
    rec.calls.reduce((n, c) => n + c.batchSize, 0),
    8,
  );
  for (const call of rec.calls) assert.equal(call.inputs.x?.dims[0], call.batchSize);
  results.forEach((out, i) => {
    assert.deepEqual(out.y?.dims, [1, 3]);
    assert.deepEqual(Array.from(out.y?.data as Float32Array), plusOne(requests[i] as ort.Tensor));
  });
  await batcher.close();
});

test('multi-row requests are split back by row range', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 32 }), rec.run);
  const requests = [floatRows(1, 2, 0), floatRows(3, 2, 100), floatRows(2, 2, 200)];
  const results = await Promise.all(requests.map((x) => batcher.submit({ x })));
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [6],
  );
  results.forEach((out, i) => {
    const x = requests[i] as ort.Tensor;
    assert.deepEqual(out.y?.dims, x.dims);
    assert.deepEqual(Array.from(out.y?.data as Float32Array), plusOne(x));
  });
  await batcher.close();
});

test('requests accumulate while all batch threads are busy', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, (call) => (call === rec.calls[0] ? g.wait() : undefined));
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 32, numBatchThreads: 1 }), rec.run);
  const first = batcher.submit({ x: floatRows(1, 2, 0) });
  await g.started;
  const later = Array.from({ length: 5 }, (_, i) => batcher.submit({ x: floatRows(1, 2, 10 * (i + 1)) }));
  await nextTurn();
  await nextTurn();
  assert.equal(batcher.inFlightBatches, 1);
  assert.equal(batcher.queuedRows, 5);
  g.open();
  const results = await Promise.all([first, ...later]);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [1, 5],
  );
  assert.deepEqual(Array.from(results[3]?.y?.data as Float32Array), [31, 32]);
  assert.equal(batcher.queuedRows, 0);
  await batcher.close();
});

test('at most numBatchThreads batches run at once', { timeout: 20_000 }, async () => {
  const g = gate();
  const rec = recordingRun(addOne, () => g.wait());
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 1, numBatchThreads: 2 }), rec.run);
  const all = Array.from({ length: 6 }, (_, i) => batcher.submit({ x: floatRows(1, 2, i) }));
  await g.started;
  await nextTurn();
  await nextTurn();
  assert.equal(batcher.inFlightBatches, 2);
  assert.equal(rec.calls.length, 2);
  assert.equal(batcher.queuedRows, 4);
  g.open();
  await Promise.all(all);
  assert.equal(rec.calls.length, 6);
  assert.equal(rec.maxActive(), 2);
  await batcher.close();
});

test('requests whose non-batch dims differ go to different batches', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 32 }), rec.run);
  const a = floatRows(1, 2, 0);
  const b = floatRows(1, 3, 10);
  const c = floatRows(2, 2, 20);
  const [ra, rb, rc] = await Promise.all([a, b, c].map((x) => batcher.submit({ x })));
  assert.equal(rec.calls.length, 2);
  assert.deepEqual(rec.calls.map((call) => call.inputs.x?.dims).sort(), [
    [1, 3],
    [3, 2],
  ]);
  assert.deepEqual(ra?.y?.dims, [1, 2]);
  assert.deepEqual(Array.from(ra?.y?.data as Float32Array), plusOne(a));
  assert.deepEqual(rb?.y?.dims, [1, 3]);
  assert.deepEqual(Array.from(rb?.y?.data as Float32Array), plusOne(b));
  assert.deepEqual(Array.from(rc?.y?.data as Float32Array), plusOne(c));
  await batcher.close();
});

test('batches are padded with zero rows up to the next allowed size; callers do not see the padding', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8, allowedBatchSizes: [2, 4, 8] }), rec.run);
  const requests = [floatRows(1, 2, 1), floatRows(1, 2, 3), floatRows(1, 2, 5)];
  const results = await Promise.all(requests.map((x) => batcher.submit({ x })));
  assert.equal(rec.calls.length, 1);
  const call = rec.calls[0];
  assert.equal(call?.batchSize, 4);
  assert.deepEqual(call?.inputs.x?.dims, [4, 2]);
  assert.deepEqual(Array.from(call?.inputs.x?.data as Float32Array), [1, 2, 3, 4, 5, 6, 0, 0]);
  results.forEach((out, i) => {
    assert.deepEqual(out.y?.dims, [1, 2]);
    assert.deepEqual(Array.from(out.y?.data as Float32Array), plusOne(requests[i] as ort.Tensor));
  });
  await batcher.close();
});

test('padVariableLengthInputs pads ragged dims (empty strings / zeros) and batches them together', { timeout: 20_000 }, async () => {
  const rec = recordingRun(identityString);
  const batcher = new DynamicBatcher('s:1', options({ maxBatchSize: 8, padVariableLengthInputs: true }), rec.run);
  const [r1, r2] = await Promise.all([
    batcher.submit({ x: new ort.Tensor('string', ['a', 'b'], [1, 2]) }),
    batcher.submit({ x: new ort.Tensor('string', ['c', 'd', 'e', 'f', 'g', 'h'], [2, 3]) }),
  ]);
  assert.equal(rec.calls.length, 1);
  assert.deepEqual(rec.calls[0]?.inputs.x?.dims, [3, 3]);
  // Outputs keep the padded width (TF Serving does not un-pad either).
  assert.deepEqual(r1?.y?.dims, [1, 3]);
  assert.deepEqual(r1?.y?.data, ['a', 'b', '']);
  assert.deepEqual(r2?.y?.dims, [2, 3]);
  assert.deepEqual(r2?.y?.data, ['c', 'd', 'e', 'f', 'g', 'h']);
  await batcher.close();

  const recFloat = recordingRun(addOne4d);
  const floats = new DynamicBatcher('m:1', options({ maxBatchSize: 8, padVariableLengthInputs: true }), recFloat.run);
  const x3 = new ort.Tensor('float32', new Float32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]), [1, 2, 2, 3]);
  const x2 = new ort.Tensor('float32', new Float32Array([20, 21, 22, 23]), [1, 2, 1, 2]);
  const [f3, f2] = await Promise.all([floats.submit({ x: x3 }), floats.submit({ x: x2 })]);
  assert.equal(recFloat.calls.length, 1);
  assert.deepEqual(recFloat.calls[0]?.inputs.x?.dims, [2, 2, 2, 3]);
  assert.deepEqual(Array.from(f3?.y?.data as Float32Array), plusOne(x3));
  assert.deepEqual(f2?.y?.dims, [1, 2, 2, 3]);
  // [[20,21],[22,23]] padded to 2x2x3 with zeros, then +1.
  assert.deepEqual(Array.from(f2?.y?.data as Float32Array), [21, 22, 1, 1, 1, 1, 23, 24, 1, 1, 1, 1]);
  await floats.close();
});

test('without padVariableLengthInputs, ragged requests are not padded', { timeout: 20_000 }, async () => {
  const rec = recordingRun(identityString);
  const batcher = new DynamicBatcher('s:1', options({ maxBatchSize: 8 }), rec.run);
  const [r1, r2] = await Promise.all([
    batcher.submit({ x: new ort.Tensor('string', ['a', 'b'], [1, 2]) }),
    batcher.submit({ x: new ort.Tensor('string', ['c', 'd', 'e'], [1, 3]) }),
  ]);
  assert.equal(rec.calls.length, 2);
  assert.deepEqual(r1?.y?.data, ['a', 'b']);
  assert.deepEqual(r2?.y?.data, ['c', 'd', 'e']);
  await batcher.close();
});

test('a request larger than maxBatchSize is rejected with TF wording, with or without splitting', { timeout: 20_000 }, async () => {
  for (const enableLargeBatchSplitting of [false, true]) {
    const rec = recordingRun(addOne);
    const batcher = new DynamicBatcher(
      'm:1',
      options({ maxBatchSize: 4, enableLargeBatchSplitting, maxExecutionBatchSize: enableLargeBatchSplitting ? 2 : 4 }),
      rec.run,
    );
    const { error } = await settle(batcher.submit({ x: floatRows(5, 2) }));
    assert.ok(error instanceof InvalidArgumentError, String(error));
    assert.equal(error.message, 'Task size 5 is larger than maximum input batch size 4');
    assert.equal(rec.calls.length, 0);
    assert.equal(batcher.queuedRows, 0);
    await batcher.close();
  }
});

test('large-batch splitting runs a big request in several batches and reassembles it in order', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher(
    'm:1',
    options({ maxBatchSize: 10, enableLargeBatchSplitting: true, maxExecutionBatchSize: 4 }),
    rec.run,
  );
  const big = floatRows(10, 3, 0);
  const small = floatRows(2, 3, 500);
  const [rb, rs] = await Promise.all([batcher.submit({ x: big }), batcher.submit({ x: small })]);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [4, 4, 4],
  );
  assert.deepEqual(rb?.y?.dims, [10, 3]);
  assert.deepEqual(Array.from(rb?.y?.data as Float32Array), plusOne(big));
  assert.deepEqual(Array.from(rs?.y?.data as Float32Array), plusOne(small));

  // Small first: the big request fills the rest of the first batch with its first rows.
  rec.calls.length = 0;
  const [rs2, rb2] = await Promise.all([batcher.submit({ x: small }), batcher.submit({ x: big })]);
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [4, 4, 4],
  );
  assert.deepEqual(Array.from(rb2?.y?.data as Float32Array), plusOne(big));
  assert.deepEqual(Array.from(rs2?.y?.data as Float32Array), plusOne(small));
  await batcher.close();
});

test('a lone request is passed through and its outputs returned without copies; batched outputs are views', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options({ maxBatchSize: 8 }), rec.run);
  const x = floatRows(2, 2);
  const out = await batcher.submit({ x });
  assert.equal(rec.calls[0]?.inputs.x, x);
  assert.equal(out.y, rec.calls[0]?.outputs?.y);
  const [a, b] = await Promise.all([batcher.submit({ x: floatRows(1, 2, 0) }), batcher.submit({ x: floatRows(1, 2, 2) })]);
  const batched = rec.calls[1]?.outputs?.y?.data as Float32Array;
  assert.equal((a?.y?.data as Float32Array).buffer, batched.buffer);
  assert.equal((b?.y?.data as Float32Array).buffer, batched.buffer);
  assert.deepEqual(Array.from(b?.y?.data as Float32Array), [3, 4]);
  await batcher.close();
});

test('splitting pads the last piece to an allowed size', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher(
    'm:1',
    options({ maxBatchSize: 16, enableLargeBatchSplitting: true, maxExecutionBatchSize: 4, allowedBatchSizes: [2, 4] }),
    rec.run,
  );
  const big = floatRows(9, 2, 0);
  const out = await batcher.submit({ x: big });
  assert.deepEqual(
    rec.calls.map((c) => c.batchSize),
    [4, 4, 2],
  );
  assert.deepEqual(Array.from(out.y?.data as Float32Array), plusOne(big));
  await batcher.close();
});

test('malformed requests are rejected before queueing', { timeout: 20_000 }, async () => {
  const rec = recordingRun(addOne);
  const batcher = new DynamicBatcher('m:1', options(), rec.run);
  const ragged = await settle(batcher.submit({ x: floatRows(2, 2), z: floatRows(3, 2) }));
  assert.ok(ragged.error instanceof InvalidArgumentError);
  assert.match(ragged.error.message, /equal 0th-dimension size/);
  const scalar = await settle(batcher.submit({ x: new ort.Tensor('float32', new Float32Array([1]), []) }));
  assert.ok(scalar.error instanceof InvalidArgumentError);
  assert.match(scalar.error.message, /at least one dimension/);
  const priority = await settle(batcher.submit({ x: floatRows(1, 2) }, { priority: 2 }));
  assert.ok(priority.error instanceof InvalidArgumentError);
  const queueTimeout = await settle(batcher.submit({ x: floatRows(1, 2) }, { queueTimeoutMs: -1 }));
  assert.ok(queueTimeout.error instanceof InvalidArgumentError);
  assert.equal(rec.calls.length, 0);
  assert.equal(batcher.queuedRows, 0);
  await batcher.close();
});
