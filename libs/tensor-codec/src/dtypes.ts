import type { Tensor } from 'onnxruntime-node';
import { DataType } from '@maas/protos';

/** The onnxruntime element types this codec can carry; int4/uint4 have no TF twin on the wire. */
export type CodecOrtType = Exclude<Tensor.Type, 'int4' | 'uint4'>;

/**
 * TF dtype <-> onnxruntime type, both directions from one table so they cannot drift.
 * DT_BFLOAT16 is absent on purpose: onnxruntime-node 1.30 cannot construct bfloat16 tensors
 * ("Unsupported tensor type: bfloat16") nor load models that use them.
 */
const PAIRS: ReadonlyArray<readonly [DataType, CodecOrtType]> = [
  [DataType.DT_FLOAT, 'float32'],
  [DataType.DT_DOUBLE, 'float64'],
  [DataType.DT_HALF, 'float16'],
  [DataType.DT_INT8, 'int8'],
  [DataType.DT_INT16, 'int16'],
  [DataType.DT_INT32, 'int32'],
  [DataType.DT_INT64, 'int64'],
  [DataType.DT_UINT8, 'uint8'],
  [DataType.DT_UINT16, 'uint16'],
  [DataType.DT_UINT32, 'uint32'],
  [DataType.DT_UINT64, 'uint64'],
  [DataType.DT_BOOL, 'bool'],
  [DataType.DT_STRING, 'string'],
];

const ORT_BY_DTYPE = new Map<DataType, CodecOrtType>(PAIRS);
const DTYPE_BY_ORT = new Map<string, DataType>(PAIRS.map(([dtype, ort]) => [ort, dtype]));

export function ortTypeForDataType(dtype: DataType): Tensor.Type | undefined {
  return ORT_BY_DTYPE.get(dtype);
}

/** Internal twin of ortTypeForDataType with the narrower type the codec works with. */
export function codecTypeForDataType(dtype: DataType): CodecOrtType | undefined {
  return ORT_BY_DTYPE.get(dtype);
}

export function dataTypeForOrtType(type: string): DataType | undefined {
  return DTYPE_BY_ORT.get(type);
}

/** TF's DataTypeString names (types.cc), indexed by enum value; error messages must match TF's wording. */
const NAMES: readonly string[] = [
  'INVALID', 'float', 'double', 'int32', 'uint8', 'int16', 'int8', 'string', 'complex64', 'int64', 'bool',
  'qint8', 'quint8', 'qint32', 'bfloat16', 'qint16', 'quint16', 'uint16', 'complex128', 'half', 'resource',
  'variant', 'uint32', 'uint64', 'float8_e5m2', 'float8_e4m3fn', 'float8_e4m3fnuz', 'float8_e4m3b11fnuz',
  'float8_e5m2fnuz', 'int4', 'uint4', 'int2', 'uint2', 'float4_e2m1fn',
];

/** Reference twins are base + 100 (types.proto). */
const REF_OFFSET = 100;

export function dataTypeName(dtype: DataType): string {
  const ref = dtype > REF_OFFSET;
  const name = NAMES[ref ? dtype - REF_OFFSET : dtype];
  // Same fallback text as TF for values it does not know.
  if (name === undefined) return `unknown dtype enum (${dtype})`;
  return ref ? `${name}_ref` : name;
}
