import type { TensorProto } from '@maas/protos';
import { ARRAY_TYPES, type FixedWidthType, type NumericArray } from './typed-arrays.js';

interface Fillable<T> {
  readonly length: number;
  set(values: ArrayLike<T>): void;
  fill(value: T, start?: number): unknown;
}

/**
 * TF's typed-field rule (Tensor::FromProto): extra values are ignored, a short list has its
 * last value repeated to fill the shape, and an empty list leaves zeros.
 */
export function fillRepeatingLast<T>(target: Fillable<T>, values: readonly T[]): void {
  const n = target.length;
  const k = values.length;
  if (k === 0) return;
  if (k >= n) {
    target.set(k === n ? values : values.slice(0, n));
    return;
  }
  target.set(values);
  target.fill(values[k - 1] as T, k);
}

/** The `*_val` field TF reads for each dtype (shared/spec §3.14). */
function typedValues(type: FixedWidthType, proto: TensorProto): readonly number[] | readonly bigint[] {
  switch (type) {
    case 'float32':
      return proto.floatVal;
    case 'float64':
      return proto.doubleVal;
    case 'float16':
      return proto.halfVal; // bit patterns; the Uint16Array store truncates to 16 bits like TF's cast
    case 'int8':
    case 'int16':
    case 'int32':
    case 'uint8':
    case 'uint16':
      return proto.intVal;
    case 'uint32':
      return proto.uint32Val;
    case 'int64':
      return proto.int64Val;
    case 'uint64':
      return proto.uint64Val;
    case 'bool':
      // Uint8Array.set stores true/false as 1/0, which is what onnxruntime bool tensors hold.
      return proto.boolVal as unknown as number[];
  }
}

/** A fresh typed array of `count` elements built from the dtype's typed field. */
export function fromTypedField(type: FixedWidthType, proto: TensorProto, count: number): NumericArray {
  const data = new ARRAY_TYPES[type](count);
  fillRepeatingLast(data as Fillable<number | bigint>, typedValues(type, proto));
  return data;
}
