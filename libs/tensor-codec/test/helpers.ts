import assert from 'node:assert/strict';
import type { Tensor } from 'onnxruntime-node';
import { DataType, type TensorProto } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';

/** A complete TensorProto (ts-proto has no fromPartial here) with the given fields set. */
export function makeProto(fields: Partial<TensorProto> & { dims?: Array<number | bigint> }): TensorProto {
  const { dims, ...rest } = fields;
  return {
    dtype: DataType.DT_INVALID,
    tensorShape: dims === undefined ? undefined : { dim: dims.map((d) => ({ size: BigInt(d), name: '' })), unknownRank: false },
    versionNumber: 0,
    tensorContent: new Uint8Array(0),
    halfVal: [],
    floatVal: [],
    doubleVal: [],
    intVal: [],
    stringVal: [],
    scomplexVal: [],
    int64Val: [],
    boolVal: [],
    dcomplexVal: [],
    resourceHandleVal: [],
    variantVal: [],
    uint32Val: [],
    uint64Val: [],
    float8Val: new Uint8Array(0),
    ...rest,
  };
}

const encoder = new TextEncoder();

/** DT_STRING tensor_content: one varint32 length per element, then the bytes (tensor_coding.cc). */
export function stringContent(strings: readonly string[]): Uint8Array {
  const bodies = strings.map((s) => encoder.encode(s));
  const out: number[] = [];
  for (const body of bodies) {
    let n = body.byteLength;
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
  }
  for (const body of bodies) out.push(...body);
  return Uint8Array.from(out);
}

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

/** A fresh copy of a typed array's bytes (so the proto owns its own buffer). */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
}

/** The same bytes placed at `offset` inside a larger ArrayBuffer, like a grpc-js slice. */
export function placedAt(bytes: Uint8Array, offset: number): Uint8Array {
  const backing = new Uint8Array(offset + bytes.byteLength + 3);
  backing.fill(0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.byteLength);
}

/** Tensor data compared bitwise for numbers (NaN payloads, -0), by value for strings. */
export function assertSameData(actual: Tensor, expected: readonly string[] | ArrayBufferView, message?: string): void {
  if (actual.type === 'string') {
    assert.deepEqual(actual.data, expected, message);
  } else {
    assert.deepEqual(bytesOf(actual.data as ArrayBufferView), bytesOf(expected as ArrayBufferView), message);
  }
}

/** assert.throws for an InvalidArgumentError whose message contains every fragment. */
export function assertInvalid(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${String(error)}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `message ${JSON.stringify(error.message)} lacks ${JSON.stringify(fragment)}`);
    return true;
  });
}

type OrtType = 'float32' | 'float64' | 'float16' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool' | 'string';

export interface Sample {
  type: OrtType;
  dtype: DataType;
  /** Four elements, shaped [2, 2]; as onnxruntime holds them. */
  data: ArrayBufferView | string[];
  /** The same four elements in the dtype's typed field. */
  typed: Partial<TensorProto>;
}

const f32 = Float32Array.from([1.5, -0, NaN, -Infinity]);
const f64 = Float64Array.from([1e300, -0, NaN, 5e-324]);
const halfBits = [0x3c00, 0x8000, 0x7e00, 0xfbff]; // 1, -0, NaN, -65504
const strings = ['a', '', 'héllo', '日本語'];

/** One sample per dtype the codec supports, with edge values of each range. */
export const SAMPLES: readonly Sample[] = [
  { type: 'float32', dtype: DataType.DT_FLOAT, data: f32, typed: { floatVal: Array.from(f32) } },
  { type: 'float64', dtype: DataType.DT_DOUBLE, data: f64, typed: { doubleVal: Array.from(f64) } },
  { type: 'float16', dtype: DataType.DT_HALF, data: Uint16Array.from(halfBits), typed: { halfVal: halfBits } },
  { type: 'int8', dtype: DataType.DT_INT8, data: Int8Array.from([-128, 127, 0, -1]), typed: { intVal: [-128, 127, 0, -1] } },
  { type: 'int16', dtype: DataType.DT_INT16, data: Int16Array.from([-32768, 32767, 0, -1]), typed: { intVal: [-32768, 32767, 0, -1] } },
  { type: 'int32', dtype: DataType.DT_INT32, data: Int32Array.from([-(2 ** 31), 2 ** 31 - 1, 0, -1]), typed: { intVal: [-(2 ** 31), 2 ** 31 - 1, 0, -1] } },
  { type: 'int64', dtype: DataType.DT_INT64, data: BigInt64Array.from([-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n]), typed: { int64Val: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n] } },
  { type: 'uint8', dtype: DataType.DT_UINT8, data: Uint8Array.from([0, 255, 1, 128]), typed: { intVal: [0, 255, 1, 128] } },
  { type: 'uint16', dtype: DataType.DT_UINT16, data: Uint16Array.from([0, 65535, 1, 32768]), typed: { intVal: [0, 65535, 1, 32768] } },
  { type: 'uint32', dtype: DataType.DT_UINT32, data: Uint32Array.from([0, 2 ** 32 - 1, 1, 2 ** 31]), typed: { uint32Val: [0, 2 ** 32 - 1, 1, 2 ** 31] } },
  { type: 'uint64', dtype: DataType.DT_UINT64, data: BigUint64Array.from([0n, 2n ** 64n - 1n, 1n, 2n ** 63n]), typed: { uint64Val: [0n, 2n ** 64n - 1n, 1n, 2n ** 63n] } },
  { type: 'bool', dtype: DataType.DT_BOOL, data: Uint8Array.from([1, 0, 0, 1]), typed: { boolVal: [true, false, false, true] } },
  { type: 'string', dtype: DataType.DT_STRING, data: strings, typed: { stringVal: strings.map(utf8) } },
];

/** The sample as tensor_content (packed bytes) and as its typed field. */
export function sampleProtos(sample: Sample): { content: TensorProto; typed: TensorProto } {
  const content = Array.isArray(sample.data) ? stringContent(sample.data) : bytesOf(sample.data);
  return {
    content: makeProto({ dtype: sample.dtype, dims: [2, 2], tensorContent: content }),
    typed: makeProto({ dtype: sample.dtype, dims: [2, 2], ...sample.typed }),
  };
}
