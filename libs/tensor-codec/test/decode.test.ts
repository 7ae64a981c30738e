import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Tensor } from 'onnxruntime-node';
import { DataType } from '@maas/protos';
import { decodeTensor, DEFAULT_MAX_ELEMENTS, shapeOf } from '../src/index.js';
import { assertInvalid, assertSameData, bytesOf, makeProto, placedAt, SAMPLES, sampleProtos, stringContent, type Sample } from './helpers.js';

const alias = 'my_input';

/** Sample elements picked by index, in the representation onnxruntime holds. */
function pick(sample: Sample, indexes: number[]): ArrayBufferView | string[] {
  if (Array.isArray(sample.data)) return indexes.map((i) => (sample.data as string[])[i]!);
  const source = sample.data as unknown as { constructor: new (n: number) => { [i: number]: unknown } & ArrayBufferView; [i: number]: unknown };
  const out = new source.constructor(indexes.length);
  indexes.forEach((from, to) => (out[to] = source[from]));
  return out;
}

/** The sample's typed field holding only the values at `indexes`. */
function typedWith(sample: Sample, indexes: number[]) {
  const [field, values] = Object.entries(sample.typed)[0] as [string, unknown[]];
  return { [field]: indexes.map((i) => values[i]) };
}

test('tensor_content and typed fields decode to the same data for every dtype', () => {
  for (const sample of SAMPLES) {
    for (const [encoding, proto] of Object.entries(sampleProtos(sample))) {
      const tensor = decodeTensor(proto, { alias });
      assert.equal(tensor.type, sample.type, `${sample.type} ${encoding}`);
      assert.deepEqual(tensor.dims, [2, 2]);
      assertSameData(tensor, sample.data, `${sample.type} ${encoding}`);
    }
  }
});

test('non-empty tensor_content wins over typed fields', () => {
  const proto = makeProto({ dtype: DataType.DT_FLOAT, dims: [2], tensorContent: bytesOf(Float32Array.from([7, 8])), floatVal: [1, 2] });
  assert.deepEqual(Array.from(decodeTensor(proto, { alias }).data as Float32Array), [7, 8]);
  const strings = makeProto({ dtype: DataType.DT_STRING, dims: [1], tensorContent: stringContent(['packed']), stringVal: [new TextEncoder().encode('typed')] });
  assert.deepEqual(decodeTensor(strings, { alias }).data, ['packed']);
});

test('a missing tensor_shape is a scalar', () => {
  const tensor = decodeTensor(makeProto({ dtype: DataType.DT_INT64, int64Val: [42n] }), { alias });
  assert.deepEqual(tensor.dims, []);
  assert.deepEqual(Array.from(tensor.data as BigInt64Array), [42n]);
});

test('a short typed field repeats its last value to fill the shape', () => {
  for (const sample of SAMPLES) {
    const proto = makeProto({ dtype: sample.dtype, dims: [5], ...typedWith(sample, [0, 1]) });
    assertSameData(decodeTensor(proto, { alias }), pick(sample, [0, 1, 1, 1, 1]), sample.type);
    const one = makeProto({ dtype: sample.dtype, dims: [2, 2], ...typedWith(sample, [3]) });
    assertSameData(decodeTensor(one, { alias }), pick(sample, [3, 3, 3, 3]), `${sample.type} fill`);
  }
});

test('extra typed values are ignored', () => {
  for (const sample of SAMPLES) {
    const proto = makeProto({ dtype: sample.dtype, dims: [3], ...typedWith(sample, [2, 1, 0, 3]) });
    assertSameData(decodeTensor(proto, { alias }), pick(sample, [2, 1, 0]), sample.type);
  }
});

test('no values at all give zeros or empty strings', () => {
  for (const sample of SAMPLES) {
    const tensor = decodeTensor(makeProto({ dtype: sample.dtype, dims: [3] }), { alias });
    assert.deepEqual(tensor.dims, [3]);
    if (sample.type === 'string') assert.deepEqual(tensor.data, ['', '', '']);
    else assert.deepEqual(Array.from(bytesOf(tensor.data as ArrayBufferView)), new Array((tensor.data as ArrayBufferView).byteLength).fill(0), sample.type);
    assert.ok((tensor.data as { length: number }).length === 3, sample.type);
  }
});

test('zero-element shapes decode to empty tensors whatever the values', () => {
  for (const sample of SAMPLES) {
    const tensor = decodeTensor(makeProto({ dtype: sample.dtype, dims: [0, 3], ...sample.typed }), { alias });
    assert.deepEqual(tensor.dims, [0, 3]);
    assert.equal(tensor.size, 0);
    assert.equal((tensor.data as { length: number }).length, 0, sample.type);
  }
});

test('varint lengths above 127 decode in string tensor_content', () => {
  const long = 'x'.repeat(300);
  const proto = makeProto({ dtype: DataType.DT_STRING, dims: [3], tensorContent: stringContent(['', long, 'é']) });
  assert.deepEqual(decodeTensor(proto, { alias }).data, ['', long, 'é']);
});

test('aligned tensor_content backs the tensor without a copy', () => {
  for (const sample of SAMPLES) {
    if (Array.isArray(sample.data)) continue;
    const size = (sample.data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const content = placedAt(bytesOf(sample.data), 8 * size); // aligned offset inside a bigger buffer, like a grpc slice
    const tensor = decodeTensor(makeProto({ dtype: sample.dtype, dims: [2, 2], tensorContent: content }), { alias });
    const data = tensor.data as ArrayBufferView;
    assert.equal(data.buffer, content.buffer, `${sample.type} shares the buffer`);
    assert.equal(data.byteOffset, content.byteOffset, sample.type);
    assertSameData(tensor, sample.data, sample.type);
  }
});

test('unaligned tensor_content is copied once, with the same values', () => {
  for (const sample of SAMPLES) {
    if (Array.isArray(sample.data)) continue;
    const size = (sample.data as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
    const content = placedAt(bytesOf(sample.data), size === 8 ? 4 : 1);
    const tensor: Tensor = decodeTensor(makeProto({ dtype: sample.dtype, dims: [2, 2], tensorContent: content }), { alias });
    const data = tensor.data as ArrayBufferView;
    if (size === 1) assert.equal(data.buffer, content.buffer, `${sample.type}: one-byte elements are always aligned`);
    else assert.notEqual(data.buffer, content.buffer, `${sample.type} copied`);
    assertSameData(tensor, sample.data, sample.type);
  }
});

test('DT_INVALID and dtypes the runtime lacks are refused, naming alias and dtype', () => {
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_INVALID, floatVal: [1] }), { alias }), alias, 'DT_INVALID');
  const cases: Array<[DataType, string]> = [
    [DataType.DT_COMPLEX64, 'complex64'], [DataType.DT_COMPLEX128, 'complex128'], [DataType.DT_QINT8, 'qint8'],
    [DataType.DT_QUINT16, 'quint16'], [DataType.DT_RESOURCE, 'resource'], [DataType.DT_VARIANT, 'variant'],
    [DataType.DT_FLOAT8_E4M3FN, 'float8_e4m3fn'], [DataType.DT_INT4, 'int4'], [DataType.DT_FLOAT_REF, 'float_ref'],
    [77 as DataType, 'unknown dtype enum (77)'],
  ];
  for (const [dtype, name] of cases) {
    assertInvalid(() => decodeTensor(makeProto({ dtype, dims: [1] }), { alias }), alias, `dtype ${name} is not supported`, 'expected one of float');
  }
});

test('bfloat16 is refused as unsupported by the runtime', () => {
  const proto = makeProto({ dtype: DataType.DT_BFLOAT16, dims: [2], halfVal: [0x3f80, 0x4000] });
  assertInvalid(() => decodeTensor(proto, { alias }), alias, 'bfloat16 is not supported by the runtime');
  assertInvalid(() => decodeTensor(proto, { alias, expectedDtype: DataType.DT_BFLOAT16 }), alias, 'bfloat16 is not supported by the runtime');
});

test('a dtype other than the signature expects is refused in TF wording', () => {
  const proto = makeProto({ dtype: DataType.DT_BOOL, dims: [1], boolVal: [true] });
  assertInvalid(() => decodeTensor(proto, { alias: 'x', expectedDtype: DataType.DT_FLOAT }), "Expects arg 'x' to be float but bool is provided");
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_INT64, dims: [1] }), { alias, expectedDtype: DataType.DT_INT32 }), `Expects arg '${alias}' to be int32 but int64 is provided`);
  // Unsupported dtypes still report the mismatch first: it says what the client should send.
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_COMPLEX64, dims: [1] }), { alias, expectedDtype: DataType.DT_FLOAT }), `Expects arg '${alias}' to be float but complex64 is provided`);
  assert.equal(decodeTensor(proto, { alias, expectedDtype: DataType.DT_BOOL }).type, 'bool');
});

test('bad shapes are refused, naming the alias', () => {
  const unknownRank = makeProto({ dtype: DataType.DT_FLOAT, floatVal: [1] });
  unknownRank.tensorShape = { dim: [], unknownRank: true };
  assertInvalid(() => decodeTensor(unknownRank, { alias }), alias, 'unknown_rank');
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: [2, -1] }), { alias }), alias, 'dim 1 has size -1', 'expected a size >= 0');
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: [0, 2n ** 62n] }), { alias }), alias, `dim 1 has size ${2n ** 62n}`);
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: new Array(255).fill(1) }), { alias }), alias, '255 dims', 'at most 254');
  assert.deepEqual(decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: new Array(254).fill(1), floatVal: [3] }), { alias }).size, 1);
});

test('element counts over the limit are refused before allocating', () => {
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: [3, 4], floatVal: [1] }), { alias, maxElements: 11 }), alias, '12 elements', 'at most 11');
  assert.equal(decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: [3, 4], floatVal: [1] }), { alias, maxElements: 12 }).size, 12);
  // 2^93 elements: would overflow a double product and could never be allocated.
  const huge = makeProto({ dtype: DataType.DT_FLOAT, dims: [2 ** 31, 2 ** 31, 2 ** 31], floatVal: [1] });
  assertInvalid(() => decodeTensor(huge, { alias }), alias, `${2n ** 93n} elements`, `at most ${DEFAULT_MAX_ELEMENTS}`);
  assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_STRING, dims: [DEFAULT_MAX_ELEMENTS + 1] }), { alias }), alias, 'elements');
  // A zero dim makes the count zero however large the others.
  assert.equal(decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, dims: [2 ** 40, 0] }), { alias }).size, 0);
  assert.equal(DEFAULT_MAX_ELEMENTS, 2 ** 28);
});

test('an invalid maxElements is a programming error', () => {
  for (const maxElements of [-1, 1.5, NaN, Infinity]) {
    assert.throws(() => decodeTensor(makeProto({ dtype: DataType.DT_FLOAT, floatVal: [1] }), { alias, maxElements }), TypeError);
  }
});

test('tensor_content of the wrong length is refused', () => {
  for (const sample of SAMPLES) {
    if (Array.isArray(sample.data)) continue;
    const bytes = bytesOf(sample.data);
    const size = bytes.byteLength / 4;
    for (const wrong of [bytes.subarray(0, bytes.byteLength - 1), Uint8Array.from([...bytes, 0])]) {
      const proto = makeProto({ dtype: sample.dtype, dims: [2, 2], tensorContent: wrong });
      assertInvalid(() => decodeTensor(proto, { alias }), alias, `tensor_content has ${wrong.byteLength} bytes`, `expected ${4 * size}`);
    }
  }
});

test('inconsistent string tensor_content is refused', () => {
  const bad = (content: number[], dims: number[], ...fragments: string[]) =>
    assertInvalid(() => decodeTensor(makeProto({ dtype: DataType.DT_STRING, dims, tensorContent: Uint8Array.from(content) }), { alias }), alias, ...fragments);
  bad([1, 2, 0x61, 0x62], [2], 'add up to 3 bytes', '2 bytes that follow'); // lengths claim more than present
  bad([1, 0, 0x61, 0x62], [2], 'add up to 1 bytes', '2 bytes that follow'); // trailing bytes
  bad([0x80, 0x80], [1], 'ends inside the length of element 0');
  bad([0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [1], 'longer than a varint32');
  bad([1, 0x61], [3], 'has 2 bytes', 'at least 3');
  bad([0x61], [2, 1], 'has 1 bytes', 'at least 2');
});

test('shapeOf returns validated dims as numbers', () => {
  assert.deepEqual(shapeOf(makeProto({ dtype: DataType.DT_FLOAT })), []);
  assert.deepEqual(shapeOf(makeProto({ dtype: DataType.DT_FLOAT, dims: [3, 0, 7] })), [3, 0, 7]);
  assert.throws(() => shapeOf(makeProto({ dtype: DataType.DT_FLOAT, dims: [-1] })), /dim 0 has size -1/);
});
