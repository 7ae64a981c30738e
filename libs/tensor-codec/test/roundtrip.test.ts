import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { DataType } from '@maas/protos';
import { InternalError } from '@maas/errors';
import { identityModel } from '@maas/test-support';
import { decodeTensor, encodeTensor } from '../src/index.js';
import { assertInvalid, assertSameData, bytesOf, makeProto, SAMPLES, sampleProtos, utf8 } from './helpers.js';

const alias = 'x';

test('decode -> encode -> decode keeps dtype, shape and data for both encodings of every dtype', () => {
  for (const sample of SAMPLES) {
    for (const [encoding, proto] of Object.entries(sampleProtos(sample))) {
      const label = `${sample.type} ${encoding}`;
      const encoded = encodeTensor(decodeTensor(proto, { alias }));
      assert.equal(encoded.dtype, sample.dtype, label);
      assert.deepEqual(encoded.tensorShape, { dim: [{ size: 2n, name: '' }, { size: 2n, name: '' }], unknownRank: false }, label);
      if (Array.isArray(sample.data)) {
        assert.deepEqual(encoded.stringVal, sample.data.map(utf8), label);
        assert.equal(encoded.tensorContent.byteLength, 0, label);
      } else {
        assert.deepEqual(new Uint8Array(encoded.tensorContent), bytesOf(sample.data), label);
        assert.equal(encoded.stringVal.length, 0, label);
      }
      assertSameData(decodeTensor(encoded, { alias, expectedDtype: sample.dtype }), sample.data, label);
    }
  }
});

test('every dtype survives a real onnxruntime Identity session, both encodings', async () => {
  for (const sample of SAMPLES) {
    const session = await ort.InferenceSession.create(identityModel(sample.type, ['a', 'b']));
    try {
      for (const [encoding, proto] of Object.entries(sampleProtos(sample))) {
        const label = `${sample.type} ${encoding}`;
        const { y } = await session.run({ x: decodeTensor(proto, { alias, expectedDtype: sample.dtype }) });
        assert.ok(y, label);
        const encoded = encodeTensor(y);
        assert.equal(encoded.dtype, sample.dtype, label);
        assert.deepEqual(encoded.tensorShape?.dim.map((d) => d.size), [2n, 2n], label);
        assertSameData(decodeTensor(encoded, { alias }), sample.data, label);
      }
    } finally {
      await session.release();
    }
  }
});

test('scalars and empty tensors keep their shape through encode', () => {
  const scalar = encodeTensor(new ort.Tensor('float32', Float32Array.from([2.5]), []));
  assert.deepEqual(scalar.tensorShape, { dim: [], unknownRank: false });
  assert.deepEqual(Array.from(decodeTensor(scalar, { alias }).data as Float32Array), [2.5]);
  const empty = encodeTensor(new ort.Tensor('int32', new Int32Array(0), [0, 5]));
  assert.deepEqual(empty.tensorShape?.dim.map((d) => d.size), [0n, 5n]);
  assert.deepEqual(decodeTensor(empty, { alias }).dims, [0, 5]);
});

test('encode views the tensor buffer instead of copying', () => {
  const backing = new Float64Array(6).fill(9);
  const data = backing.subarray(2, 5);
  const encoded = encodeTensor(new ort.Tensor('float64', data, [3]));
  assert.equal(encoded.tensorContent.buffer, backing.buffer);
  assert.equal(encoded.tensorContent.byteOffset, 16);
  assert.equal(encoded.tensorContent.byteLength, 24);
});

test('encode refuses onnxruntime types TF has no dtype for', () => {
  // onnxruntime-node packs int4 into a Uint8Array at runtime, whatever its .d.ts says.
  const int4 = new ort.Tensor('int4', Uint8Array.from([0x21]) as unknown as Int8Array, [2]);
  assert.throws(() => encodeTensor(int4), (error: unknown) => error instanceof InternalError && error.message.includes('int4'));
});

test('onnxruntime-node really cannot build bfloat16 tensors, and decode says so', () => {
  // If a future onnxruntime-node supports bfloat16, this fails as a reminder to add DT_BFLOAT16.
  assert.throws(() => new ort.Tensor('bfloat16' as 'float16', new Uint16Array(2), [2]), /Unsupported tensor type: bfloat16/);
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_BFLOAT16, dims: [2], halfVal: [1, 2] }), { alias }), "x", 'bfloat16 is not supported by the runtime');
});
