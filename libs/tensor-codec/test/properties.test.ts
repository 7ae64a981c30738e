import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DataType } from '@maas/protos';
import { decodeTensor, encodeTensor } from '../src/index.js';
import { bytesOf, makeProto, placedAt, stringContent, utf8 } from './helpers.js';

const alias = 'prop';
const RUNS = { numRuns: 200 };

/** Shapes of rank 0..4 with small dims (zeros included) and their element count. */
const shapes = fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 4 }).map((dims) => ({ dims, count: dims.reduce((a, b) => a * b, 1) }));

interface Fixed {
  dtype: DataType;
  size: number;
}

const FIXED: Record<string, Fixed> = {
  float32: { dtype: DataType.DT_FLOAT, size: 4 },
  float64: { dtype: DataType.DT_DOUBLE, size: 8 },
  float16: { dtype: DataType.DT_HALF, size: 2 },
  int8: { dtype: DataType.DT_INT8, size: 1 },
  int16: { dtype: DataType.DT_INT16, size: 2 },
  int32: { dtype: DataType.DT_INT32, size: 4 },
  int64: { dtype: DataType.DT_INT64, size: 8 },
  uint8: { dtype: DataType.DT_UINT8, size: 1 },
  uint16: { dtype: DataType.DT_UINT16, size: 2 },
  uint32: { dtype: DataType.DT_UINT32, size: 4 },
  uint64: { dtype: DataType.DT_UINT64, size: 8 },
};

test('tensor_content of random bytes round-trips bitwise at any offset (NaN payloads, -0 included)', () => {
  for (const [type, { dtype, size }] of Object.entries(FIXED)) {
    const cases = shapes.chain(({ dims, count }) =>
      fc.record({ dims: fc.constant(dims), bytes: fc.uint8Array({ minLength: count * size, maxLength: count * size }), offset: fc.integer({ min: 0, max: 9 }) }),
    );
    fc.assert(
      fc.property(cases, ({ dims, bytes, offset }) => {
        const tensor = decodeTensor(makeProto({ dtype, dims, tensorContent: placedAt(bytes, offset) }), { alias, expectedDtype: dtype });
        assert.equal(tensor.type, type);
        assert.deepEqual(tensor.dims, dims);
        const encoded = encodeTensor(tensor);
        assert.equal(encoded.dtype, dtype);
        assert.deepEqual(encoded.tensorShape?.dim.map((d) => Number(d.size)), dims);
        assert.deepEqual(bytesOf(encoded.tensorContent), bytes);
      }),
      RUNS,
    );
  }
});

/** Typed-field values and the typed array they must decode to. */
const TYPED: Array<{ dtype: DataType; field: string; values: fc.Arbitrary<unknown>; expect: (v: never[]) => ArrayBufferView }> = [
  { dtype: DataType.DT_FLOAT, field: 'floatVal', values: fc.float(), expect: (v) => Float32Array.from(v) },
  { dtype: DataType.DT_DOUBLE, field: 'doubleVal', values: fc.double(), expect: (v) => Float64Array.from(v) },
  { dtype: DataType.DT_HALF, field: 'halfVal', values: fc.integer({ min: 0, max: 0xffff }), expect: (v) => Uint16Array.from(v) },
  { dtype: DataType.DT_INT8, field: 'intVal', values: fc.integer({ min: -128, max: 127 }), expect: (v) => Int8Array.from(v) },
  { dtype: DataType.DT_INT16, field: 'intVal', values: fc.integer({ min: -32768, max: 32767 }), expect: (v) => Int16Array.from(v) },
  { dtype: DataType.DT_INT32, field: 'intVal', values: fc.integer(), expect: (v) => Int32Array.from(v) },
  { dtype: DataType.DT_UINT8, field: 'intVal', values: fc.integer({ min: 0, max: 255 }), expect: (v) => Uint8Array.from(v) },
  { dtype: DataType.DT_UINT16, field: 'intVal', values: fc.integer({ min: 0, max: 65535 }), expect: (v) => Uint16Array.from(v) },
  { dtype: DataType.DT_UINT32, field: 'uint32Val', values: fc.integer({ min: 0, max: 2 ** 32 - 1 }), expect: (v) => Uint32Array.from(v) },
  { dtype: DataType.DT_INT64, field: 'int64Val', values: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), expect: (v) => BigInt64Array.from(v) },
  { dtype: DataType.DT_UINT64, field: 'uint64Val', values: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), expect: (v) => BigUint64Array.from(v) },
  { dtype: DataType.DT_BOOL, field: 'boolVal', values: fc.boolean(), expect: (v) => Uint8Array.from(v as boolean[], Number) },
];

test('typed fields of random values decode as TF fills them, and round-trip', () => {
  for (const { dtype, field, values, expect } of TYPED) {
    const cases = fc.record({ shape: shapes, values: fc.array(values, { maxLength: 30 }) });
    fc.assert(
      fc.property(cases, ({ shape: { dims, count }, values }) => {
        // TF's fill rule, written independently: index i takes values[min(i, k-1)], or zero.
        const filled = Array.from({ length: count }, (_, i) => (values.length === 0 ? undefined : values[Math.min(i, values.length - 1)]));
        const zero = field === 'int64Val' || field === 'uint64Val' ? 0n : field === 'boolVal' ? false : 0;
        const expected = bytesOf(expect(filled.map((v) => v ?? zero) as never[]));
        const tensor = decodeTensor(makeProto({ dtype, dims, [field]: values }), { alias });
        assert.deepEqual(bytesOf(tensor.data as ArrayBufferView), expected);
        assert.deepEqual(bytesOf(decodeTensor(encodeTensor(tensor), { alias }).data as ArrayBufferView), expected);
      }),
      RUNS,
    );
  }
});

test('random strings round-trip through string_val and tensor_content', () => {
  const cases = shapes.chain(({ dims, count }) => fc.record({ dims: fc.constant(dims), strings: fc.array(fc.string({ unit: 'binary', maxLength: 200 }), { minLength: count, maxLength: count }) }));
  fc.assert(
    fc.property(cases, fc.integer({ min: 0, max: 7 }), ({ dims, strings }, offset) => {
      const viaVal = decodeTensor(makeProto({ dtype: DataType.DT_STRING, dims, stringVal: strings.map(utf8) }), { alias });
      const viaContent = decodeTensor(makeProto({ dtype: DataType.DT_STRING, dims, tensorContent: placedAt(stringContent(strings), offset) }), { alias });
      for (const tensor of [viaVal, viaContent]) {
        assert.deepEqual(tensor.dims, dims);
        assert.deepEqual(tensor.data, strings);
        const encoded = encodeTensor(tensor);
        assert.equal(encoded.dtype, DataType.DT_STRING);
        assert.deepEqual(encoded.stringVal, strings.map(utf8));
        assert.deepEqual(decodeTensor(encoded, { alias }).data, strings);
      }
    }),
    RUNS,
  );
});
