import { DataType, type TensorProto } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { dataTypeName, decodeTensor } from '@maas/tensor-codec';
import type { JsonWriter } from './json-writer.js';

/** Output strings whose alias ends so are binary and written as {"b64": …} (TF's IsNamedTensorBytes). */
const BYTES_SUFFIX = '_bytes';

/** The dtypes TF's JSON writer supports (shared/spec §7.4). */
const WRITABLE = new Set<DataType>([
  DataType.DT_FLOAT, DataType.DT_DOUBLE, DataType.DT_INT8, DataType.DT_INT16, DataType.DT_INT32, DataType.DT_UINT8,
  DataType.DT_INT64, DataType.DT_UINT32, DataType.DT_UINT64, DataType.DT_BOOL, DataType.DT_STRING,
]);

type Run = (writer: JsonWriter, offset: number, count: number) => void;

/** One response tensor, ready to be written element by element. */
export interface JsonTensor {
  alias: string;
  dims: readonly number[];
  /** Writes `count` elements from `offset`, comma-separated. */
  writeRun: Run;
  /** Float data, which writeNested hands to the writer directly (the hot case: no closure per list). */
  floats?: { values: Float32Array | Float64Array; single: boolean };
}

function runOf<T>(values: ArrayLike<T>, write: (writer: JsonWriter, value: T) => void): Run {
  return (writer, offset, count) => {
    for (let i = 0; i < count; i++) {
      if (i > 0) writer.byte(0x2c);
      write(writer, values[offset + i]!);
    }
  };
}

/** DT_STRING elements as bytes: string_val as sent (the worker's encoding), or tensor_content via the codec. */
function stringElements(alias: string, proto: TensorProto, count: number): Uint8Array[] {
  if (proto.tensorContent.byteLength === 0) {
    const values = proto.stringVal;
    // The typed-field rule: a short list repeats its last value, an empty one gives empty strings.
    return Array.from({ length: count }, (_, i) => values[Math.min(i, values.length - 1)] ?? new Uint8Array(0));
  }
  return (decodeTensor(proto, { alias }).data as string[]).map((s) => Buffer.from(s, 'utf8'));
}

/**
 * A response TensorProto as a JsonTensor. Numeric data is read through the tensor codec, so both
 * tensor_content (what the worker sends) and typed fields (what TF sends) work.
 */
export function jsonTensor(alias: string, proto: TensorProto): JsonTensor {
  const { dtype } = proto;
  if (!WRITABLE.has(dtype)) throw new InvalidArgumentError(`Failed to write JSON value for tensor type: ${dataTypeName(dtype)}`);
  if (dtype === DataType.DT_STRING) {
    const dims = proto.tensorShape?.dim.map((d) => Number(d.size)) ?? [];
    const strings = stringElements(alias, proto, dims.reduce((a, b) => a * b, 1));
    const asBytes = alias.endsWith(BYTES_SUFFIX);
    const utf8 = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    return { alias, dims, writeRun: runOf(strings, asBytes ? (w, b) => w.base64(b) : (w, b) => w.string(utf8(b))) };
  }
  const tensor = decodeTensor(proto, { alias });
  const dims = tensor.dims;
  const data = tensor.data;
  switch (dtype) {
    case DataType.DT_FLOAT:
    case DataType.DT_DOUBLE: {
      const floats = { values: data as Float32Array | Float64Array, single: dtype === DataType.DT_FLOAT };
      return { alias, dims, floats, writeRun: (w, offset, count) => w.floatRun(floats.values, offset, count, floats.single) };
    }
    case DataType.DT_BOOL:
      return { alias, dims, writeRun: runOf(data as Uint8Array, (w, v) => w.bool(v !== 0)) };
    case DataType.DT_INT64:
    case DataType.DT_UINT64:
      return { alias, dims, writeRun: runOf(data as BigInt64Array, (w, v) => w.bigint(v)) };
    default:
      return { alias, dims, writeRun: (w, offset, count) => w.integerRun(data as Int32Array, offset, count) };
  }
}

/** Writes the elements from `offset` as nested lists over dims[dim…] (a bare value at full depth); returns the next offset. */
export function writeNested(writer: JsonWriter, tensor: JsonTensor, dim: number, offset: number): number {
  const { dims } = tensor;
  const rank = dims.length - dim;
  if (rank === 0) {
    tensor.writeRun(writer, offset, 1);
    return offset + 1;
  }
  if (dims.slice(dim).includes(0)) return writeEmpty(writer, dims, dim, offset);
  // An odometer over the outer dims, one run per innermost list: no recursion per list.
  const inner = dims[dims.length - 1]!;
  const position = new Array<number>(rank - 1).fill(0);
  const { floats } = tensor;
  for (let i = 0; i < rank; i++) writer.byte(0x5b);
  for (;;) {
    if (floats) writer.floatRun(floats.values, offset, inner, floats.single);
    else tensor.writeRun(writer, offset, inner);
    offset += inner;
    let level = rank - 2;
    let closed = 1;
    while (level >= 0 && ++position[level]! === dims[dim + level]) {
      position[level] = 0;
      level--;
      closed++;
    }
    if (level < 0) break;
    writer.nextList(closed);
  }
  for (let i = 0; i < rank; i++) writer.byte(0x5d);
  return offset;
}

/** Nested lists of a shape with a zero dim: only brackets (TF writes `[]` at the first empty level). */
function writeEmpty(writer: JsonWriter, dims: readonly number[], dim: number, offset: number): number {
  writer.byte(0x5b);
  if (dim < dims.length - 1) {
    for (let i = 0; i < dims[dim]!; i++) {
      if (i > 0) writer.byte(0x2c);
      writeEmpty(writer, dims, dim + 1, offset);
    }
  }
  writer.byte(0x5d);
  return offset;
}
