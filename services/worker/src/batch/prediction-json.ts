import type { Tensor } from 'onnxruntime-node';
import { InvalidArgumentError } from '@maas/errors';
import type { TensorMap, TensorSpec } from '@maas/onnx-runtime';

/*
 * One row of a run's outputs as the JSON text of a TF Serving REST prediction: the row's value of
 * the single output, or an object of every output by alias. Written straight from the typed
 * arrays. Floats get the shortest text that reads back to the same float32; NaN and ±Infinity,
 * which JSON cannot hold, are written as null.
 */

function float32Text(x: number): string {
  if (!Number.isFinite(x)) return 'null';
  for (let digits = 6; digits < 9; digits++) {
    const shorter = Number(x.toPrecision(digits));
    if (Math.fround(shorter) === x) return String(shorter);
  }
  return String(Number(x.toPrecision(9)));
}

/** IEEE half-precision bits (how onnxruntime-node hands out float16) to a number. */
function halfValue(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

function elementWriter(tensor: Tensor): (i: number) => string {
  const data = tensor.data as ArrayLike<number | bigint | string>;
  switch (tensor.type) {
    case 'float32':
      return (i) => float32Text(data[i] as number);
    case 'float16':
      return (i) => float32Text(Math.fround(halfValue(data[i] as number)));
    case 'float64':
      return (i) => (Number.isFinite(data[i]) ? String(data[i]) : 'null');
    case 'bool':
      return (i) => (data[i] ? 'true' : 'false');
    case 'string':
      return (i) => JSON.stringify(data[i]);
    default:
      return (i) => String(data[i]);
  }
}

/** Row `row` of one output: nested lists over the dims after the batch dimension. */
function rowText(tensor: Tensor, row: number): string {
  const dims = tensor.dims.slice(1);
  const perRow = dims.reduce((a, b) => a * b, 1);
  const write = elementWriter(tensor);
  let index = row * perRow;
  const nested = (depth: number): string => {
    if (depth === dims.length) return write(index++);
    const parts = new Array<string>(dims[depth]!);
    for (let i = 0; i < parts.length; i++) parts[i] = nested(depth + 1);
    return `[${parts.join(',')}]`;
  };
  return nested(0);
}

/** The prediction of row `row` (0-based within the run) of every output. */
export function predictionJson(outputs: readonly TensorSpec[], results: TensorMap, row: number): string {
  const texts = outputs.map((spec) => {
    const tensor = results[spec.name];
    if (!tensor) throw new InvalidArgumentError(`the model produced no value for output '${spec.alias}'`);
    if (tensor.dims.length === 0) throw new InvalidArgumentError(`output '${spec.alias}' has no batch dimension`);
    return rowText(tensor, row);
  });
  if (outputs.length === 1) return texts[0]!;
  return `{${outputs.map((spec, i) => `${JSON.stringify(spec.alias)}:${texts[i]}`).join(',')}}`;
}
