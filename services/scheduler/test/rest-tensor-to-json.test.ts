import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { DataType, TensorProto } from '@maas/protos';
import { ServingError } from '@maas/errors';
import { JsonWriter } from '../src/rest/json-writer.js';
import { JsonNumber, parseJson } from '../src/rest/json-value.js';
import { predictResponseJson } from '../src/rest/predict-response-json.js';

const shape = (dims: number[]) => ({ dim: dims.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false });

/** A response tensor as the worker sends it: numbers in tensor_content, strings in string_val. */
function tensor(dtype: DataType, dims: number[], data: ArrayBufferView | string[] | Uint8Array[]): TensorProto {
  if (Array.isArray(data)) {
    return { ...TensorProto.create(), dtype, tensorShape: shape(dims), stringVal: data.map((s) => (typeof s === 'string' ? Buffer.from(s) : s)) };
  }
  return { ...TensorProto.create(), dtype, tensorShape: shape(dims), tensorContent: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

const json = (outputs: Record<string, TensorProto>, format: 'row' | 'columnar') => predictResponseJson(outputs, format).toString('utf8');

function floats32(values: number[]): string {
  const writer = new JsonWriter(4);
  values.forEach((v, i) => {
    if (i > 0) writer.byte(0x2c);
    writer.float32(Math.fround(v));
  });
  return writer.finish().toString();
}

function floats64(values: number[]): string {
  const writer = new JsonWriter(4);
  values.forEach((v, i) => {
    if (i > 0) writer.byte(0x2c);
    writer.float64(v);
  });
  return writer.finish().toString();
}

test('floats are written as TF does: .0 on whole numbers, %g exponents, bare NaN/Infinity', () => {
  assert.equal(
    floats32([3, 0, -0, 0.1, -2.5, 1e-5, 0.0001, 100000, 1e6, 9000000, 1234567, 16777216, 0.12345678, NaN, Infinity, -Infinity]),
    '3.0,0.0,-0.0,0.1,-2.5,1e-05,0.0001,100000.0,1e+06,9e+06,1234567.0,16777216.0,0.12345678,NaN,Infinity,-Infinity',
  );
  // Extremes take the slow path and still come out shortest.
  assert.equal(floats32([3.4028234663852886e38, 1.401298464324817e-45, 1.1754943508222875e-38]), '3.4028235e+38,1e-45,1.1754944e-38');
  assert.equal(
    floats64([3, 0.1, 1e-5, 1e21, 123456789012345680000, 0.30000000000000004, 5e-324, -1.7976931348623157e308, 1234567]),
    '3.0,0.1,1e-05,1e+21,1.2345678901234568e+20,0.30000000000000004,5e-324,-1.7976931348623157e+308,1234567.0',
  );
});

test('every float32 is written in at most 9 digits that read back to the same float (property)', () => {
  fc.assert(
    fc.property(fc.float({ noNaN: true, noDefaultInfinity: true }), (value) => {
      const text = floats32([value]);
      const digits = text.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '');
      return Object.is(Math.fround(Number(text)), value) && digits.length <= 10 && /\.|e/.test(text);
    }),
    { numRuns: 5000 },
  );
});

test('a run of float32 values is written as float32() writes each one, in the common range too (property)', () => {
  // floatRun writes [1e-4, 1e5) itself (a shorter search); float32() is the reference.
  const common = fc.float({ min: Math.fround(1e-4), max: Math.fround(1e5), noNaN: true });
  const edges = fc.constantFrom(Math.fround(1e-4), Math.fround(9.9999997e-5), Math.fround(99999.99), Math.fround(99999.995), 0.5, 0.1, Math.fround(0.1), 1 / 3, 123.456, 2 ** -13, 65536.5);
  const value = fc.oneof(common, common.map((v) => -v), edges, fc.float({ noNaN: true }));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 12 }), (values) => {
      const floats = Float32Array.from(values);
      const writer = new JsonWriter(4);
      writer.floatRun(floats, 0, floats.length, true);
      assert.equal(writer.finish().toString(), floats32(Array.from(floats)));
    }),
    { numRuns: 5000 },
  );
});

test('every double is written as text that reads back exactly (property)', () => {
  fc.assert(
    fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (value) => Object.is(Number(floats64([value])), value)),
    { numRuns: 5000 },
  );
});

test('row format: one output is a list of rows; several are a list of objects', () => {
  const y = tensor(DataType.DT_FLOAT, [2, 2], Float32Array.from([1, 2.5, NaN, -Infinity]));
  assert.equal(json({ y }, 'row'), '{"predictions":[[1.0,2.5],[NaN,-Infinity]]}');
  const scores = tensor(DataType.DT_DOUBLE, [2], Float64Array.from([0.25, 3]));
  const ids = tensor(DataType.DT_INT64, [2, 1], BigInt64Array.from([9007199254740993n, -1n]));
  assert.equal(json({ scores, ids }, 'row'), '{"predictions":[{"scores":0.25,"ids":[9007199254740993]},{"scores":3.0,"ids":[-1]}]}');
});

test('columnar format: one output is its nested list; several are an object of them', () => {
  const y = tensor(DataType.DT_INT32, [2, 2, 2], Int32Array.from([1, -2, 3, 4, 5, 6, 7, -2147483648]));
  assert.equal(json({ y }, 'columnar'), '{"outputs":[[[1,-2],[3,4]],[[5,6],[7,-2147483648]]]}');
  const scalar = tensor(DataType.DT_FLOAT, [], Float32Array.from([7]));
  const flags = tensor(DataType.DT_BOOL, [3], Uint8Array.from([1, 0, 1]));
  assert.equal(json({ scalar, flags }, 'columnar'), '{"outputs":{"scalar":7.0,"flags":[true,false,true]}}');
});

test('zero-size dims give empty lists', () => {
  assert.equal(json({ y: tensor(DataType.DT_FLOAT, [2, 0], new Float32Array(0)) }, 'columnar'), '{"outputs":[[],[]]}');
  assert.equal(json({ y: tensor(DataType.DT_FLOAT, [0, 3], new Float32Array(0)) }, 'columnar'), '{"outputs":[]}');
  assert.equal(json({ y: tensor(DataType.DT_FLOAT, [0, 3], new Float32Array(0)) }, 'row'), '{"predictions":[]}');
});

test('every integer dtype the writer supports, with 64-bit values exact', () => {
  const cases: Array<[DataType, ArrayBufferView, string]> = [
    [DataType.DT_INT8, Int8Array.from([-128, 127]), '[-128,127]'],
    [DataType.DT_UINT8, Uint8Array.from([0, 255]), '[0,255]'],
    [DataType.DT_INT16, Int16Array.from([-32768, 32767]), '[-32768,32767]'],
    [DataType.DT_UINT32, Uint32Array.from([0, 4294967295]), '[0,4294967295]'],
    [DataType.DT_INT64, BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n]), '[-9223372036854775808,9223372036854775807]'],
    [DataType.DT_UINT64, BigUint64Array.from([2n ** 64n - 1n, 0n]), '[18446744073709551615,0]'],
  ];
  for (const [dtype, data, expected] of cases) assert.equal(json({ y: tensor(dtype, [2], data) }, 'columnar'), `{"outputs":${expected}}`);
});

test('strings are JSON-escaped; outputs whose alias ends in _bytes are {"b64": …}', () => {
  const text = tensor(DataType.DT_STRING, [2], ['héllo "x"', 'a\nb']);
  const raw = tensor(DataType.DT_STRING, [2], [Uint8Array.from([0, 255]), new Uint8Array(0)]);
  assert.equal(json({ text, raw_bytes: raw }, 'columnar'), '{"outputs":{"text":["héllo \\"x\\"","a\\nb"],"raw_bytes":[{"b64":"AP8="},{"b64":""}]}}');
  assert.equal(json({ raw_bytes: raw }, 'row'), '{"predictions":[{"b64":"AP8="},{"b64":""}]}');
});

test('typed fields are read too (TF\'s encoding), with the repeat-last fill rule', () => {
  const y = { ...TensorProto.create(), dtype: DataType.DT_FLOAT, tensorShape: shape([3]), floatVal: [1.5, 2] };
  assert.equal(json({ y }, 'columnar'), '{"outputs":[1.5,2.0,2.0]}');
  const s = { ...TensorProto.create(), dtype: DataType.DT_STRING, tensorShape: shape([2]), stringVal: [Buffer.from('a')] };
  assert.equal(json({ s }, 'columnar'), '{"outputs":["a","a"]}');
});

test('the output parses back to the same numbers with the REST parser (NaN tokens included)', () => {
  const values = Float32Array.from({ length: 1000 }, (_, i) => (i % 7 === 0 ? NaN : Math.fround(Math.sin(i) * 10 ** ((i % 13) - 6))));
  const text = predictResponseJson({ y: tensor(DataType.DT_FLOAT, [10, 100], values) }, 'columnar');
  const parsed = parseJson(text) as unknown as { get(k: string): JsonNumber[][] };
  const back = parsed.get('outputs').flat().map((n) => Math.fround(n.value));
  assert.equal(back.length, 1000);
  back.forEach((v, i) => assert.ok(Object.is(v, values[i]), `${i}: ${v} vs ${values[i]}`));
});

test('TF\'s refusals: no outputs, inconsistent batch, no shape in row format, unsupported dtype', () => {
  const fails = (fn: () => unknown, message: string) =>
    assert.throws(fn, (error: ServingError) => error.code === status.INVALID_ARGUMENT && error.message === message);
  fails(() => json({}, 'row'), 'Cannot convert empty tensor map to JSON');
  const a = tensor(DataType.DT_FLOAT, [2], Float32Array.from([1, 2]));
  const b = tensor(DataType.DT_FLOAT, [3], Float32Array.from([1, 2, 3]));
  fails(() => json({ a, b }, 'row'), 'Tensor name: b has inconsistent batch size: 3 expecting: 2');
  assert.doesNotThrow(() => json({ a, b }, 'columnar'));
  fails(() => json({ s: tensor(DataType.DT_FLOAT, [], Float32Array.from([1])) }, 'row'), 'Tensor name: s has no shape information ');
  fails(() => json({ h: tensor(DataType.DT_HALF, [1], Uint16Array.from([0x3c00])) }, 'columnar'), 'Failed to write JSON value for tensor type: half');
  fails(() => json({ u: tensor(DataType.DT_UINT16, [1], Uint16Array.from([1])) }, 'columnar'), 'Failed to write JSON value for tensor type: uint16');
});

test('the writer grows from a tiny buffer without corrupting what it wrote', () => {
  const values = Float32Array.from({ length: 5000 }, (_, i) => i * 0.5);
  const text = predictResponseJson({ y: tensor(DataType.DT_FLOAT, [50, 100], values) }, 'row').toString();
  const expected = `{"predictions":[${Array.from({ length: 50 }, (_, r) => `[${Array.from(values.subarray(r * 100, r * 100 + 100), (v) => (Number.isInteger(v) ? `${v}.0` : String(v))).join(',')}]`).join(',')}]}`;
  assert.equal(text, expected);
});
