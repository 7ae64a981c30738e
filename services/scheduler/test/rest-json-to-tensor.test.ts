import assert from 'node:assert/strict';
import { test as nodeTest } from 'node:test';
import fc from 'fast-check';
import { status } from '@grpc/grpc-js';
import { DataType, type TensorProto } from '@maas/protos';
import { ServingError } from '@maas/errors';
import { dataTypeName, decodeTensor } from '@maas/tensor-codec';
import { numberLists, type NumberLists } from '@maas/json-number-lists';
import { JsonCursor } from '../src/rest/json-cursor.js';
import { TensorReader } from '../src/rest/json-to-tensor.js';

/** The reader under test: every test runs with the native list reader and with JavaScript alone. */
let native: NumberLists | null = null;
const READERS = [['native lists', numberLists ?? null], ['JavaScript', null]] as const;

function test(name: string, fn: () => void): void {
  for (const [label, reader] of READERS) {
    nodeTest(`${name} [${label}]`, () => {
      native = reader;
      fn();
    });
  }
}

/** Reads one JSON value as a tensor of `dtype`; returns the proto and the cursor's end. */
function readTensor(text: string, dtype: DataType, sizeHint?: number): { proto: TensorProto; shape: number[]; end: number } {
  const reader = new TensorReader(dtype, sizeHint, native);
  const cursor = new JsonCursor(Buffer.from(text));
  const shape = reader.read(cursor);
  return { proto: reader.toProto(shape), shape, end: cursor.pos };
}

/** The elements as the worker will see them, through the project's own tensor codec. */
function elements(proto: TensorProto): unknown[] {
  const data = decodeTensor(proto, { alias: 'x' }).data;
  return Array.from(data as ArrayLike<unknown>);
}

function assertFails(fn: () => unknown, code: status, message: string | RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ServingError, String(error));
    assert.equal(error.code, code, error.message);
    if (typeof message === 'string') assert.equal(error.message, message);
    else assert.match(error.message, message);
    return true;
  });
}

test('nested lists give the shape and row-major elements; numbers land in tensor_content', () => {
  const { proto, shape, end } = readTensor('[[1, 2.5, -3], [4e2, 0.5, 6]] tail', DataType.DT_FLOAT);
  assert.deepEqual(shape, [2, 3]);
  assert.equal(end, 29);
  assert.equal(proto.dtype, DataType.DT_FLOAT);
  assert.deepEqual(proto.tensorShape?.dim.map((d) => d.size), [2n, 3n]);
  assert.equal(proto.tensorContent.byteLength, 24);
  assert.deepEqual(proto.floatVal, []);
  assert.deepEqual(elements(proto), [1, 2.5, -3, 400, 0.5, 6]);
});

test('a scalar is a rank-0 tensor, an empty list has a zero dim', () => {
  assert.deepEqual(readTensor('7', DataType.DT_INT32).shape, []);
  assert.deepEqual(elements(readTensor('7', DataType.DT_INT32).proto), [7]);
  assert.deepEqual(readTensor('[]', DataType.DT_FLOAT).shape, [0]);
  assert.deepEqual(readTensor('[[], []]', DataType.DT_FLOAT).shape, [2, 0]);
});

test('the buffer grows past its size hint without losing elements', () => {
  const values = Array.from({ length: 1000 }, (_, i) => i - 500);
  const { proto } = readTensor(JSON.stringify(values), DataType.DT_DOUBLE, 1);
  assert.deepEqual(elements(proto), values);
});

test('float and double take any JSON number, NaN and ±Infinity included', () => {
  const { proto } = readTensor('[1, -0, 0.1, 1e-45, 3.4e38, NaN, Infinity, -Infinity, 16777217]', DataType.DT_FLOAT);
  const got = elements(proto) as number[];
  assert.deepEqual(got.slice(0, 5), [1, -0, Math.fround(0.1), Math.fround(1e-45), Math.fround(3.4e38)]);
  assert.ok(Number.isNaN(got[5]));
  assert.deepEqual(got.slice(6), [Infinity, -Infinity, 16777216]);
  const doubles = elements(readTensor('[0.1, 1.7976931348623157e308, 5e-324, 0.30000000000000004]', DataType.DT_DOUBLE).proto);
  assert.deepEqual(doubles, [0.1, 1.7976931348623157e308, 5e-324, 0.30000000000000004]);
});

test('float32 values printed with 17 digits read back to the same float (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.float({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }), (values) => {
      const text = `[${values.map((v) => (Object.is(v, -0) ? '-0' : String(v))).join(',')}]`;
      const got = elements(readTensor(text, DataType.DT_FLOAT).proto) as number[];
      return got.every((g, i) => Object.is(g, values[i]));
    }),
    { numRuns: 500 },
  );
});

test('float32 is JSON.parse rounded to float, even for long decimals next to a float rounding midpoint (property)', () => {
  // A decimal of 16–19 digits is summed in doubles inexactly; next to a midpoint between two
  // floats that error could pick the other float, so such values must take the exact path.
  const texts = ['738.616790771484375', '147.813117980957031', '16.3627805709838867', '1.0000000596046448', '-0.50000002980232239'];
  const near = fc
    .tuple(fc.float({ min: Math.fround(1e-3), max: Math.fround(1e6), noNaN: true }), fc.integer({ min: 16, max: 19 }), fc.boolean())
    .map(([a, digits, negative]) => {
      const midpoint = a + (Math.fround(a * (1 + 2 ** -23)) - a) / 2;
      return `${negative ? '-' : ''}${midpoint.toPrecision(digits)}`;
    })
    .filter((text) => !text.includes('e'));
  const check = (values: string[]) => {
    const got = elements(readTensor(`[${values.join(',')}]`, DataType.DT_FLOAT).proto) as number[];
    return got.every((g, i) => Object.is(g, Math.fround(JSON.parse(values[i]!) as number)));
  };
  assert.ok(check(texts));
  fc.assert(fc.property(fc.array(near, { minLength: 1, maxLength: 20 }), check), { numRuns: 500 });
});

test('numbers with exponents read as JSON.parse reads them, for float and double (property)', () => {
  const text = fc
    .tuple(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), fc.integer({ min: 0, max: 20 }), fc.boolean())
    .map(([v, digits, upper]) => (upper ? v.toExponential(digits).toUpperCase() : v.toExponential(digits)));
  for (const [dtype, round] of [[DataType.DT_FLOAT, Math.fround], [DataType.DT_DOUBLE, (v: number) => v]] as const) {
    fc.assert(
      fc.property(fc.array(text, { minLength: 1, maxLength: 20 }), (values) => {
        const got = elements(readTensor(`[${values.join(',')}]`, dtype).proto) as number[];
        return got.every((g, i) => Object.is(g, round(JSON.parse(values[i]!) as number)));
      }),
      { numRuns: 300 },
    );
  }
});

test('numbers read the same wherever they sit: spacing, list ends, the end of the range', () => {
  const layouts = ['[[1,2],[3,4]]', '[ [ 1 , 2 ] ,\n[3,\t4\r] ]', '[[1, 2], [3, 4]]', '[[1,2],[3, 4 ]]'];
  for (const text of layouts) assert.deepEqual(elements(readTensor(text, DataType.DT_FLOAT).proto), [1, 2, 3, 4], text);
  // A cursor over part of a buffer stops at its end, not at the buffer's.
  const reader = new TensorReader(DataType.DT_FLOAT, undefined, native);
  const cursor = new JsonCursor(Buffer.from('[1, 25] 7]'), 0, 5);
  assertFails(() => reader.read(cursor), status.INVALID_ARGUMENT, "JSON Parse error: Missing a comma or ']' after an array element. at offset: 5");
  assertFails(() => readTensor('[[1, 2], [3, 4', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Missing a comma or '\]' after an array element\. at offset: 14$/);
  assertFails(() => readTensor('[[1, 2], [3, 4]', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Missing a comma or '\]' after an array element\. at offset: 15$/);
  assertFails(() => readTensor('[[1, 2], [3, 4,', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Invalid value\. at offset: 15$/);
});

/** Number texts that stress the float readers: the fast loop's limits and the exact path behind it. */
const numberText = fc.oneof(
  // float32 data printed as doubles (up to 17 digits), as clients send normalized images
  fc.float({ noNaN: true, noDefaultInfinity: true }).map((v) => (Object.is(v, -0) ? '-0' : String(v))),
  // next to a midpoint between two floats, with 9–25 digits
  fc
    .tuple(fc.float({ min: Math.fround(1e-30), max: Math.fround(1e30), noNaN: true }), fc.integer({ min: 9, max: 25 }), fc.boolean())
    .map(([a, digits, negative]) => `${negative ? '-' : ''}${(a + (Math.fround(a * (1 + 2 ** -23)) - a) / 2).toPrecision(digits)}`),
  // any double with 1–21 digits, positional or with an exponent
  fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 1, max: 21 }), fc.boolean()).map(([v, digits, exponent]) => (exponent ? v.toExponential(digits - 1) : v.toPrecision(digits))),
  // float32 subnormals and what rounds to them or to zero
  fc.tuple(fc.integer({ min: 1, max: 2 ** 23 }), fc.integer({ min: 0, max: 3 })).map(([m, shift]) => String(m * 2 ** -149 * (shift === 0 ? 1 : 1 / 2 ** shift))),
  // huge digit counts: long integer parts, long fractions, leading zeros
  fc
    .tuple(fc.stringMatching(/^(0|[1-9][0-9]{0,30})$/), fc.stringMatching(/^[0-9]{1,60}$/), fc.constantFrom('', '-'), fc.constantFrom('', 'e-7', 'E+3', 'e0', 'e-30'))
    .map(([whole, fraction, sign, exponent]) => `${sign}${whole}.${fraction}${exponent}`),
  fc.constantFrom('-0', '-0.0', '0.000', '0e5', '1e-46', '7e-46', '1.4e-45', '3.4028235e38', '3.4028236e38', '1e39', '-1e39', '16777217', '0.1'),
).filter((text) => Number.isFinite(JSON.parse(text))); // beyond a double is refused, as rapidjson does

/** A rectangular [rows][columns][channels] list of texts with random spacing, and its texts in order. */
const nestedNumbers = fc
  .tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }))
  .chain(([rows, columns, channels]) =>
    fc.tuple(fc.array(numberText, { minLength: rows * columns * channels, maxLength: rows * columns * channels }), fc.array(fc.constantFrom('', '', '', ' ', '\n', ' \t'), { minLength: 64, maxLength: 64 })).map(([texts, spaces]) => {
      let k = 0;
      const s = () => spaces[k++ % spaces.length]!;
      const list = (items: string[]) => `[${s()}${items.join(`${s()},${s()}`)}${s()}]`;
      const at = (r: number, c: number) => texts.slice((r * columns + c) * channels, (r * columns + c + 1) * channels);
      const text = list(Array.from({ length: rows }, (_, r) => list(Array.from({ length: columns }, (_, c) => list(at(r, c))))));
      return { text, texts, shape: [rows, columns, channels] };
    }),
  );

test('every element is JSON.parse of its text (rounded to float32 for float): long, short, midpoint, subnormal, exponent, -0 (property)', () => {
  fc.assert(
    fc.property(nestedNumbers, ({ text, texts, shape }) => {
      for (const [dtype, round] of [[DataType.DT_FLOAT, Math.fround], [DataType.DT_DOUBLE, (v: number) => v]] as const) {
        const { proto, shape: read } = readTensor(text, dtype);
        assert.deepEqual(read, shape);
        const got = elements(proto) as number[];
        texts.forEach((t, i) => assert.ok(Object.is(got[i], round(JSON.parse(t) as number)), `${t} read as ${got[i]} (${dataTypeName(dtype)})`));
      }
    }),
    { numRuns: 400 },
  );
});

/** Integer-only nested lists, possibly ragged or broken: the float reader (its fast loop) must agree with the int64 reader (the general path). */
const integerLists = fc
  .tuple(
    fc.array(fc.array(fc.array(fc.integer({ min: -999, max: 999 }), { minLength: 0, maxLength: 4 }), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
    fc.nat(),
    fc.constantFrom('none', 'delete', 'insert', 'scalar'),
    fc.constantFrom(',', '[', ']', ' ', '-', '0', '7', '{', '"'),
  )
  .map(([values, at, mutation, char]) => {
    const text = JSON.stringify(values);
    const i = at % text.length;
    if (mutation === 'delete') return text.slice(0, i) + text.slice(i + 1);
    if (mutation === 'insert') return text.slice(0, i) + char + text.slice(i);
    if (mutation === 'scalar') return text.replace(/\[(-?\d+)(,-?\d+)*\]/, '$1');
    return text;
  });

function outcome(text: string, dtype: DataType): string {
  try {
    const { proto, shape, end } = readTensor(text, dtype);
    return `ok ${shape.join('x')} ${end} ${(elements(proto) as Array<number | bigint>).map(Number).join(',')}`;
  } catch (error) {
    if (!(error instanceof ServingError)) throw error;
    return `${error.code} ${error.message}`;
  }
}

test('sizes, levels and syntax errors are the same from the float fast loop as from the general path (property)', () => {
  const cases = ['[[1,2],[3]]', '[[1,2],[3,4],[5,6,7]]', '[[[1],[2]],[[3],[4],[5]]]', '[[[1],[2]],[[3]]]', '[[1,2] , [3,4]]', '[[1,2],3]', '[[1,2],[3,[4]]]', '[[1,2],[]]', '[[1,2],[3,4]', '[[1,2],[3,4],]', '[[1,2],,[3,4]]'];
  for (const text of cases) assert.equal(outcome(text, DataType.DT_FLOAT), outcome(text, DataType.DT_INT64), text);
  fc.assert(
    fc.property(integerLists, (text) => {
      assert.equal(outcome(text, DataType.DT_FLOAT), outcome(text, DataType.DT_INT64), text);
    }),
    { numRuns: 2000 },
  );
});

test('doubles read back exactly whatever their text (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 20 }), (values) => {
      const got = elements(readTensor(`[${values.join(',')}]`, DataType.DT_DOUBLE).proto) as number[];
      return got.every((g, i) => g === values[i]);
    }),
    { numRuns: 500 },
  );
});

test('int64 and uint64 keep integers beyond 2^53 exactly, negative ones as two\'s complement', () => {
  const big = ['9007199254740993', '-9007199254740993', '9223372036854775807', '-9223372036854775808', '-1', '0', '4294967296', '-4294967297'];
  const got = elements(readTensor(`[${big.join(',')}]`, DataType.DT_INT64).proto);
  assert.deepEqual(got, big.map(BigInt));
  const unsigned = ['18446744073709551615', '9007199254740993', '4294967295', '0'];
  assert.deepEqual(elements(readTensor(`[${unsigned.join(',')}]`, DataType.DT_UINT64).proto), unsigned.map(BigInt));
});

test('int64 round-trips any value (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), { minLength: 1, maxLength: 20 }), (values) => {
      const got = elements(readTensor(`[${values.join(',')}]`, DataType.DT_INT64).proto) as bigint[];
      return got.every((g, i) => g === values[i]);
    }),
    { numRuns: 300 },
  );
});

test('small integer dtypes take int32-range integers; uint32 takes 0..2^32-1', () => {
  assert.deepEqual(elements(readTensor('[-2147483648, 2147483647, 0]', DataType.DT_INT32).proto), [-2147483648, 2147483647, 0]);
  assert.deepEqual(elements(readTensor('[1, 255, 0]', DataType.DT_UINT8).proto), [1, 255, 0]);
  assert.deepEqual(elements(readTensor('[-128, 127]', DataType.DT_INT8).proto), [-128, 127]);
  assert.deepEqual(elements(readTensor('[-32768, 32767]', DataType.DT_INT16).proto), [-32768, 32767]);
  assert.deepEqual(elements(readTensor('[4294967295, 0]', DataType.DT_UINT32).proto), [4294967295, 0]);
});

test('bool and string use the typed fields; strings are raw bytes, {"b64": …} is decoded', () => {
  const bools = readTensor('[[true, false], [false, true]]', DataType.DT_BOOL).proto;
  assert.deepEqual(bools.boolVal, [true, false, false, true]);
  assert.equal(bools.tensorContent.byteLength, 0);
  assert.deepEqual(elements(bools), [1, 0, 0, 1]);
  const strings = readTensor('["héllo", {"b64": "AP8="}, "a\\nb", ""]', DataType.DT_STRING).proto;
  assert.deepEqual(strings.stringVal.map((b) => [...b]), [[...Buffer.from('héllo')], [0, 255], [...Buffer.from('a\nb')], []]);
});

test('values of the wrong JSON type get TF\'s TypeError (400)', () => {
  const cases: Array<[string, DataType, string]> = [
    ['["abc"]', DataType.DT_FLOAT, 'JSON Value: "abc" Type: String is not of expected type: float'],
    ['[true]', DataType.DT_DOUBLE, 'JSON Value: true Type: True is not of expected type: double'],
    ['[null]', DataType.DT_INT32, 'JSON Value: null Type: Null is not of expected type: int32'],
    ['[1.5]', DataType.DT_INT32, 'JSON Value: 1.5 Type: Number is not of expected type: int32'],
    ['[1e2]', DataType.DT_INT64, 'JSON Value: 1e2 Type: Number is not of expected type: int64'],
    ['[2147483648]', DataType.DT_INT32, 'JSON Value: 2147483648 Type: Number is not of expected type: int32'],
    ['[9223372036854775808]', DataType.DT_INT64, 'JSON Value: 9223372036854775808 Type: Number is not of expected type: int64'],
    ['[-1]', DataType.DT_UINT32, 'JSON Value: -1 Type: Number is not of expected type: uint32'],
    ['[-1]', DataType.DT_UINT64, 'JSON Value: -1 Type: Number is not of expected type: uint64'],
    ['[18446744073709551616]', DataType.DT_UINT64, 'JSON Value: 18446744073709551616 Type: Number is not of expected type: uint64'],
    ['[1]', DataType.DT_BOOL, 'JSON Value: 1 Type: Number is not of expected type: bool'],
    ['[1]', DataType.DT_STRING, 'JSON Value: 1 Type: Number is not of expected type: string'],
    ['[{"b64": "AA=="}]', DataType.DT_FLOAT, 'JSON Value: {"b64":"AA=="} Type: Object is not of expected type: float'],
  ];
  for (const [text, dtype, message] of cases) assertFails(() => readTensor(text, dtype), status.INVALID_ARGUMENT, message);
});

test('objects that are not a single-key b64 string are refused for strings', () => {
  assertFails(() => readTensor('[{"b64": "AA==", "x": 1}]', DataType.DT_STRING), status.INVALID_ARGUMENT, 'JSON Value: {"b64":"AA==","x":1} not formatted correctly for base64 data');
  assertFails(() => readTensor('[{"b64": 5}]', DataType.DT_STRING), status.INVALID_ARGUMENT, /not formatted correctly for base64 data/);
  assertFails(() => readTensor('[{"b64": "A*=="}]', DataType.DT_STRING), status.INVALID_ARGUMENT, 'Unable to base64 decode');
});

test('half, bfloat16, complex and uint16 are UNIMPLEMENTED (501), naming value and type', () => {
  assertFails(() => readTensor('[1.5]', DataType.DT_HALF), status.UNIMPLEMENTED, 'Conversion of JSON Value: 1.5 to type: half');
  assertFails(() => readTensor('[[1]]', DataType.DT_BFLOAT16), status.UNIMPLEMENTED, 'Conversion of JSON Value: 1 to type: bfloat16');
  assertFails(() => readTensor('[1]', DataType.DT_COMPLEX64), status.UNIMPLEMENTED, /to type: complex64$/);
  assertFails(() => readTensor('[1]', DataType.DT_UINT16), status.UNIMPLEMENTED, /to type: uint16$/);
  // An object is a type error first, as in TF.
  assertFails(() => readTensor('[{}]', DataType.DT_HALF), status.INVALID_ARGUMENT, /Type: Object is not of expected type: half/);
});

test('ragged and mis-nested lists are refused with TF\'s messages', () => {
  const cases: Array<[string, string]> = [
    ['[[1, 2], [3]]', 'Encountered list at unexpected size: 1 at level: 1 expected size: 2'],
    ['[[1, 2], [3, 4, 5, 6]]', 'Encountered list at unexpected size: 4 at level: 1 expected size: 2'],
    ['[[1], [2], 3]', 'JSON Value: 3 found at incorrect level: 2 in the JSON DOM. Expected at level: 2'],
    ['[1, [2]]', 'Encountered list at unexpected level: 1 expected < 1'],
    ['[[], [1]]', 'Encountered list at unexpected size: 1 at level: 1 expected size: 0'],
    ['[[[1, 2]], [[3]]]', 'Encountered list at unexpected size: 1 at level: 2 expected size: 2'],
  ];
  for (const [text, message] of cases) assertFails(() => readTensor(text, DataType.DT_FLOAT), status.INVALID_ARGUMENT, message);
});

test('syntax errors inside a tensor are still JSON parse errors', () => {
  assertFails(() => readTensor('[1, 2', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Missing a comma or '\]' after an array element\. at offset: 5$/);
  assertFails(() => readTensor('[01]', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Missing a comma/);
  assertFails(() => readTensor('[-.5]', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Invalid value/);
  assertFails(() => readTensor('[1.]', DataType.DT_FLOAT), status.INVALID_ARGUMENT, /^JSON Parse error: Missing fraction part/);
});

test('one reader stacks several values (the rows of instances)', () => {
  const reader = new TensorReader(DataType.DT_INT64, undefined, native);
  const text = '[1, 2] [3, 4] [5, 6]';
  const cursor = new JsonCursor(Buffer.from(text));
  for (let i = 0; i < 3; i++) assert.deepEqual(reader.read(cursor), [2]);
  assert.deepEqual(elements(reader.toProto([3, 2])), [1n, 2n, 3n, 4n, 5n, 6n]);
  assert.throws(() => reader.toProto([2, 2]), /built from 6 JSON values/);
});
