import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { addConstantModel, identityModel, twoInputTwoOutputModel } from '../src/index.js';

test('built models load in onnxruntime and compute', async () => {
  const add = await ort.InferenceSession.create(addConstantModel(2));
  const out = await add.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]) });
  assert.deepEqual(Array.from(out.y!.data as Float32Array), [3, 4, 5]);

  const two = await ort.InferenceSession.create(twoInputTwoOutputModel());
  const a = new ort.Tensor('float32', Float32Array.from([1, 2, 3]), [1, 3]);
  const b = new ort.Tensor('float32', Float32Array.from([4, 5, 6]), [1, 3]);
  const res = await two.run({ a, b });
  assert.deepEqual(Array.from(res.product!.data as Float32Array), [4, 10, 18]);
});

test('identity models exist for every dtype the codec handles', async () => {
  for (const type of ['float32', 'float64', 'float16', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'string'] as const) {
    const session = await ort.InferenceSession.create(identityModel(type));
    const meta = session.inputMetadata[0];
    assert.ok(meta && meta.isTensor && meta.type === type, `input type for ${type}`);
  }
});
