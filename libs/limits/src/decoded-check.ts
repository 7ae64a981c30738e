import type { Example, Input, PredictRequest } from '@maas/protos';
import { LIMIT_FLAGS, limitExceeded, type RequestLimits } from './request-limits.js';

/*
 * The same limits for requests that arrive decoded (REST bodies parsed from JSON, whose size was
 * capped in bytes before parsing), plus the REST row cap. Checked before any model work.
 */

function checkElements(count: number, limits: RequestLimits): void {
  if (count > limits.maxRequestElements) {
    throw limitExceeded(`Request has ${count} tensor elements`, limits.maxRequestElements, LIMIT_FLAGS.maxRequestElements);
  }
}

function checkString(bytes: number, limits: RequestLimits): void {
  if (bytes > limits.maxStringBytes) throw limitExceeded(`Request has a string of ${bytes} bytes`, limits.maxStringBytes, LIMIT_FLAGS.maxStringBytes);
}

function checkRows(rows: number, limits: RequestLimits): void {
  if (rows > limits.maxRestRows) throw limitExceeded(`Request has ${rows} rows`, limits.maxRestRows, LIMIT_FLAGS.maxRestRows);
}

/** Elements over the inputs (declared shapes), the longest string, and rows (the largest first dimension). */
export function checkPredictRequest(request: PredictRequest, limits: RequestLimits): void {
  let elements = 0;
  let rows = 0;
  for (const tensor of Object.values(request.inputs)) {
    const dims = tensor.tensorShape?.dim.map((d) => Math.max(0, Number(d.size))) ?? [];
    elements += dims.reduce((a, b) => a * b, 1);
    rows = Math.max(rows, dims[0] ?? 1);
    for (const value of tensor.stringVal) checkString(value.byteLength, limits);
  }
  checkElements(elements, limits);
  checkRows(rows, limits);
}

function exampleValues(example: Example | undefined, limits: RequestLimits): number {
  let count = 0;
  for (const feature of Object.values(example?.features?.feature ?? {})) {
    for (const value of feature.bytesList?.value ?? []) checkString(value.byteLength, limits);
    count += (feature.bytesList?.value.length ?? 0) + (feature.floatList?.value.length ?? 0) + (feature.int64List?.value.length ?? 0);
  }
  return count;
}

/** Examples are rows; their feature values (the context's once per example) are elements. */
export function checkExampleInput(input: Input | undefined, limits: RequestLimits): void {
  const list = input?.exampleList ?? input?.exampleListWithContext;
  const examples = list?.examples ?? [];
  checkRows(examples.length, limits);
  const context = input?.exampleListWithContext ? exampleValues(input.exampleListWithContext.context, limits) : 0;
  checkElements(examples.reduce((sum, example) => sum + exampleValues(example, limits), 0) + context * Math.max(1, examples.length), limits);
}
