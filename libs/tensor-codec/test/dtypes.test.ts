import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataType } from '@maas/protos';
import { dataTypeForOrtType, dataTypeName, ortTypeForDataType } from '../src/index.js';
import { SAMPLES } from './helpers.js';

test('every supported dtype maps to its onnxruntime type and back', () => {
  assert.equal(SAMPLES.length, 13);
  for (const { type, dtype } of SAMPLES) {
    assert.equal(ortTypeForDataType(dtype), type, dataTypeName(dtype));
    assert.equal(dataTypeForOrtType(type), dtype, type);
  }
});

test('dtypes onnxruntime cannot hold map to undefined', () => {
  const unsupported = [
    DataType.DT_INVALID, DataType.DT_BFLOAT16, DataType.DT_COMPLEX64, DataType.DT_COMPLEX128, DataType.DT_QINT8,
    DataType.DT_QUINT8, DataType.DT_QINT16, DataType.DT_QUINT16, DataType.DT_QINT32, DataType.DT_RESOURCE, DataType.DT_VARIANT,
    DataType.DT_FLOAT8_E5M2, DataType.DT_FLOAT8_E4M3FN, DataType.DT_INT4, DataType.DT_UINT4, DataType.DT_INT2,
    DataType.DT_FLOAT4_E2M1FN, DataType.DT_FLOAT_REF, DataType.UNRECOGNIZED,
  ];
  for (const dtype of unsupported) assert.equal(ortTypeForDataType(dtype), undefined, dataTypeName(dtype));
  for (const type of ['bfloat16', 'int4', 'uint4', 'float', 'Float32', '']) assert.equal(dataTypeForOrtType(type), undefined, type);
});

test('dataTypeName gives TF DataTypeString names', () => {
  const expected: Array<[DataType, string]> = [
    [DataType.DT_FLOAT, 'float'], [DataType.DT_DOUBLE, 'double'], [DataType.DT_INT32, 'int32'], [DataType.DT_INT64, 'int64'],
    [DataType.DT_STRING, 'string'], [DataType.DT_BOOL, 'bool'], [DataType.DT_HALF, 'half'], [DataType.DT_BFLOAT16, 'bfloat16'],
    [DataType.DT_UINT8, 'uint8'], [DataType.DT_UINT16, 'uint16'], [DataType.DT_UINT64, 'uint64'], [DataType.DT_COMPLEX64, 'complex64'],
    [DataType.DT_QUINT16, 'quint16'], [DataType.DT_RESOURCE, 'resource'], [DataType.DT_FLOAT8_E4M3B11FNUZ, 'float8_e4m3b11fnuz'],
    [DataType.DT_FLOAT4_E2M1FN, 'float4_e2m1fn'], [DataType.DT_INVALID, 'INVALID'], [DataType.DT_FLOAT_REF, 'float_ref'],
    [DataType.DT_UINT64_REF, 'uint64_ref'], [DataType.DT_FLOAT4_E2M1FN_REF, 'float4_e2m1fn_ref'],
    [99 as DataType, 'unknown dtype enum (99)'], [134 as DataType, 'unknown dtype enum (134)'], [DataType.UNRECOGNIZED, 'unknown dtype enum (-1)'],
  ];
  for (const [dtype, name] of expected) assert.equal(dataTypeName(dtype), name);
});

test('every DataType enum value has a name, refs named after their base', () => {
  const values = Object.values(DataType).filter((v): v is DataType => typeof v === 'number' && v >= 0);
  assert.equal(values.length, 34 + 33);
  for (const dtype of values) {
    assert.doesNotMatch(dataTypeName(dtype), /unknown/, String(dtype));
    if (dtype > 100) assert.equal(dataTypeName(dtype), `${dataTypeName(dtype - 100)}_ref`);
  }
});
