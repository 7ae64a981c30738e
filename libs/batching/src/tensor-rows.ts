import { Tensor } from 'onnxruntime-node';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';

export type TensorMap = Record<string, Tensor>;

/** The typed-array operations used here; every numeric Tensor.DataType has them. */
interface NumericArray {
  readonly length: number;
  subarray(begin?: number, end?: number): NumericArray;
  set(array: NumericArray, offset?: number): void;
}
type NumericArrayConstructor = new (length: number) => NumericArray;
type RowData = NumericArray | string[];

/** Packed sub-byte types: a row is not a whole number of array elements, so they cannot be concatenated. */
const UNBATCHABLE_TYPES: ReadonlySet<string> = new Set(['int4', 'uint4']);

/** A contiguous range of one request's rows that goes into a batch. */
export interface RowSlice {
  inputs: TensorMap;
  start: number;
  rows: number;
}

function product(dims: readonly number[], from = 0): number {
  let n = 1;
  for (let i = from; i < dims.length; i++) n *= dims[i] as number;
  return n;
}

function dataOf(tensor: Tensor): RowData {
  return tensor.data as unknown as RowData;
}

function makeTensor(type: Tensor.Type, data: RowData, dims: readonly number[]): Tensor {
  return new Tensor(type as 'float32', data as unknown as Float32Array, dims);
}

function allocateLike(data: RowData, length: number): RowData {
  if (Array.isArray(data)) return new Array<string>(length).fill('');
  return new (data.constructor as NumericArrayConstructor)(length); // zero-filled
}

/**
 * Checks a request's inputs and returns its row count (the common dim 0).
 * Messages follow TF's batching_session.cc where it has one.
 */
export function requestRows(inputs: TensorMap): number {
  const names = Object.keys(inputs);
  if (names.length === 0) throw new InvalidArgumentError('Batching needs at least one input tensor');
  let rows: number | undefined;
  for (const name of names) {
    const tensor = inputs[name] as Tensor;
    if (UNBATCHABLE_TYPES.has(tensor.type)) {
      throw new InvalidArgumentError(`Input tensor '${name}' has type ${tensor.type}, which cannot be batched`);
    }
    if (tensor.location !== 'cpu' && tensor.location !== 'cpu-pinned') {
      throw new InvalidArgumentError(`Input tensor '${name}' is not on the CPU (${tensor.location}); it cannot be batched`);
    }
    if (tensor.dims.length === 0) {
      throw new InvalidArgumentError(
        `Batching input tensors must have at least one dimension; input '${name}' is a scalar`,
      );
    }
    const dim0 = tensor.dims[0] as number;
    if (rows === undefined) rows = dim0;
    else if (dim0 !== rows) {
      throw new InvalidArgumentError(
        `Batching inputs must have equal 0th-dimension size; input '${name}' has ${dim0}, others have ${rows}`,
      );
    }
  }
  return rows as number;
}

/**
 * Key of the group a request may be batched with: input names, dtypes and non-batch dims
 * (only the rank when ragged dims are padded).
 */
export function shapeSignature(inputs: TensorMap, padVariableLength: boolean): string {
  const parts = Object.keys(inputs)
    .sort()
    .map((name) => {
      const t = inputs[name] as Tensor;
      return [name, t.type, padVariableLength ? t.dims.length : t.dims.slice(1)];
    });
  return JSON.stringify(parts);
}

/** Copies `rows` rows of src (dims srcDims, starting at row srcRow) into dst (dims dstDims) at row dstRow; dst dims >= src dims. */
function copyRows(
  src: RowData,
  srcDims: readonly number[],
  srcRow: number,
  dst: RowData,
  dstDims: readonly number[],
  dstRow: number,
  rows: number,
): void {
  const srcRowSize = product(srcDims, 1);
  const dstRowSize = product(dstDims, 1);
  let same = srcDims.length === dstDims.length;
  for (let i = 1; same && i < srcDims.length; i++) same = srcDims[i] === dstDims[i];
  if (same) {
    const begin = srcRow * srcRowSize;
    const end = begin + rows * srcRowSize;
    const offset = dstRow * dstRowSize;
    if (Array.isArray(src)) {
      const out = dst as string[];
      for (let i = begin; i < end; i++) out[offset + i - begin] = src[i] as string;
    } else {
      (dst as NumericArray).set(src.subarray(begin, end), offset);
    }
    return;
  }
  // Ragged: copy the innermost contiguous runs one by one (odometer over the outer dims).
  const rank = srcDims.length;
  const inner = srcDims[rank - 1] as number;
  const outerDims = [rows, ...srcDims.slice(1, rank - 1)];
  const blocks = product(outerDims);
  if (blocks === 0 || inner === 0) return;
  const dstStrides = new Array<number>(rank).fill(1); // strides in dst, per dim
  for (let d = rank - 2; d >= 0; d--) dstStrides[d] = (dstStrides[d + 1] as number) * (dstDims[d + 1] as number);
  const index = new Array<number>(outerDims.length).fill(0);
  let srcOffset = srcRow * srcRowSize;
  for (let b = 0; b < blocks; b++) {
    let dstOffset = dstRow * (dstStrides[0] as number);
    for (let d = 0; d < index.length; d++) dstOffset += (index[d] as number) * (dstStrides[d] as number);
    if (Array.isArray(src)) {
      const out = dst as string[];
      for (let i = 0; i < inner; i++) out[dstOffset + i] = src[srcOffset + i] as string;
    } else {
      (dst as NumericArray).set(src.subarray(srcOffset, srcOffset + inner), dstOffset);
    }
    srcOffset += inner;
    for (let d = index.length - 1; d >= 0; d--) {
      const next = (index[d] as number) + 1;
      if (next < (outerDims[d] as number)) {
        index[d] = next;
        break;
      }
      index[d] = 0;
    }
  }
}

/**
 * Concatenates the slices along dim 0 into one tensor per input, padded with zero rows
 * (empty strings) up to `paddedRows`, and ragged non-batch dims padded to the largest in the batch.
 * One slice covering a whole request with no padding is passed through without copying.
 */
export function concatRows(slices: readonly RowSlice[], paddedRows: number): TensorMap {
  const first = slices[0];
  if (first === undefined) throw new Error('concatRows: no slices');
  const out: TensorMap = {};
  for (const name of Object.keys(first.inputs)) {
    const tensors = slices.map((slice) => {
      const t = slice.inputs[name];
      if (t === undefined) throw new InvalidArgumentError(`Input '${name}' is missing from a batched request`);
      return t;
    });
    const head = tensors[0] as Tensor;
    const dims = [...head.dims];
    for (const t of tensors) {
      if (t.type !== head.type || t.dims.length !== dims.length) {
        throw new InvalidArgumentError(`Input '${name}' has different types or ranks within one batch`);
      }
      for (let d = 1; d < dims.length; d++) dims[d] = Math.max(dims[d] as number, t.dims[d] as number);
    }
    if (slices.length === 1 && first.start === 0 && first.rows === head.dims[0] && paddedRows === first.rows) {
      let same = true;
      for (let d = 1; d < dims.length; d++) same &&= dims[d] === head.dims[d];
      if (same) {
        out[name] = head;
        continue;
      }
    }
    dims[0] = paddedRows;
    const data = allocateLike(dataOf(head), product(dims));
    let row = 0;
    slices.forEach((slice, i) => {
      const t = tensors[i] as Tensor;
      copyRows(dataOf(t), t.dims, slice.start, data, dims, row, slice.rows);
      row += slice.rows;
    });
    out[name] = makeTensor(head.type, data, dims);
  }
  return out;
}

/** Rows [start, start + rows) of a tensor: a subarray view for numeric data, a copy for strings. */
export function sliceRows(tensor: Tensor, start: number, rows: number): Tensor {
  if (start === 0 && rows === tensor.dims[0]) return tensor;
  const rowSize = product(tensor.dims, 1);
  const data = dataOf(tensor);
  const begin = start * rowSize;
  const end = begin + rows * rowSize;
  const view = Array.isArray(data) ? data.slice(begin, end) : data.subarray(begin, end);
  return makeTensor(tensor.type, view, [rows, ...tensor.dims.slice(1)]);
}

/**
 * Splits a batch's outputs back to its slices by row range. Every output must have dim 0 equal to
 * the executed (padded) batch size; padded rows are dropped.
 */
export function splitRows(outputs: TensorMap, rowsPerSlice: readonly number[], paddedRows: number, model: string): TensorMap[] {
  const names = Object.keys(outputs);
  for (const name of names) {
    const t = outputs[name] as Tensor;
    if (t.dims.length === 0 || t.dims[0] !== paddedRows) {
      const got = t.dims.length === 0 ? 'is a scalar' : `has 0th dimension ${t.dims[0]}`;
      throw new FailedPreconditionError(
        `Batched output tensor '${name}' ${got} but the batch has ${paddedRows} rows: ` +
          `model ${model} does not batch along dim 0 (its outputs must have the batch size as dim 0); disable batching for it`,
      );
    }
  }
  const result: TensorMap[] = [];
  let start = 0;
  for (const rows of rowsPerSlice) {
    const part: TensorMap = {};
    for (const name of names) part[name] = sliceRows(outputs[name] as Tensor, start, rows);
    result.push(part);
    start += rows;
  }
  return result;
}
