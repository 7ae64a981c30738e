import type { CodecOrtType } from './dtypes.js';

export type FixedWidthType = Exclude<CodecOrtType, 'string'>;

export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

interface ArrayConstructorLike {
  readonly BYTES_PER_ELEMENT: number;
  new (length: number): NumericArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray;
}

/**
 * The typed array backing each fixed-width onnxruntime type. float16 is Uint16Array bit
 * patterns (what onnxruntime-node 1.30 takes on Node 20) and bool is one byte per element.
 */
export const ARRAY_TYPES: Readonly<Record<FixedWidthType, ArrayConstructorLike>> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
};
