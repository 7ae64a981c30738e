import ort from 'onnxruntime-node';
import { InvalidArgumentError, UnimplementedError } from '@maas/errors';
import { ARRAY_TYPES, dataTypeName, ortTypeForDataType, type FixedWidthType } from '@maas/tensor-codec';
import type { ModelSignature, TensorMap, TensorSpec } from '@maas/onnx-runtime';

/*
 * One JSON instance (a TF Serving REST `instances` element) -> per-input values, checked on its
 * own so a bad row fails alone; rows of the same shapes are then stacked into one batch. TF's
 * rules: a single input takes the value itself (or an object naming it); several inputs take an
 * object with every alias; values are scalars or rectangular nested lists; {"b64": …} is a string.
 */

type Element = number | bigint | boolean | string;

/** One row's value for one input: its shape without the batch dimension, and its elements. */
interface RowValue {
  shape: number[];
  elements: Element[];
}

/** A row converted for every input alias. */
export type RowFeeds = Map<string, RowValue>;

const INT_RANGES: Partial<Record<FixedWidthType, [number, number]>> = {
  int8: [-128, 127],
  int16: [-32768, 32767],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255],
  uint16: [0, 65535],
  uint32: [0, 2 ** 32 - 1],
};

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isBase64Object = (value: unknown): value is { b64: string } =>
  isPlainObject(value) && Object.keys(value).length === 1 && typeof value.b64 === 'string';

function element(spec: TensorSpec, type: string, value: unknown): Element {
  const bad = () => new InvalidArgumentError(`input '${spec.alias}' expects ${dataTypeName(spec.dtype)} values, got ${JSON.stringify(value)}`);
  switch (type) {
    case 'float32':
    case 'float64':
      if (typeof value !== 'number') throw bad();
      return value;
    case 'int64':
    case 'uint64':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || (type === 'uint64' && value < 0)) throw bad();
      return BigInt(value);
    case 'bool':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'string':
      if (typeof value === 'string') return value;
      if (isBase64Object(value)) return Buffer.from(value.b64, 'base64').toString('utf8');
      throw bad();
    default: {
      const range = INT_RANGES[type as FixedWidthType];
      if (!range || typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) throw bad();
      return value;
    }
  }
}

/** A scalar or rectangular nested list, flattened; the shape comes from the first element at each depth. */
function flatten(spec: TensorSpec, type: string, value: unknown): RowValue {
  const shape: number[] = [];
  for (let probe = value; Array.isArray(probe); probe = probe[0]) {
    shape.push(probe.length);
    if (probe.length === 0) break;
  }
  const elements: Element[] = [];
  const walk = (node: unknown, depth: number) => {
    if (depth === shape.length) {
      if (Array.isArray(node)) throw new InvalidArgumentError(`input '${spec.alias}' is not a rectangular list`);
      elements.push(element(spec, type, node));
      return;
    }
    if (!Array.isArray(node) || node.length !== shape[depth]) throw new InvalidArgumentError(`input '${spec.alias}' is not a rectangular list`);
    for (const item of node) walk(item, depth + 1);
  };
  walk(value, 0);
  return { shape, elements };
}

const shapeText = (shape: readonly number[]) => `[${shape.map((d) => (d < 0 ? '?' : d)).join(',')}]`;

function rowValue(spec: TensorSpec, value: unknown): RowValue {
  const type = ortTypeForDataType(spec.dtype);
  if (!type || type === 'float16') throw new UnimplementedError(`input '${spec.alias}' has dtype ${dataTypeName(spec.dtype)}, which batch jobs cannot convert from JSON`);
  const converted = flatten(spec, type, value);
  const want = spec.shape.slice(1);
  if (converted.shape.length !== want.length || want.some((d, i) => d >= 0 && d !== converted.shape[i])) {
    throw new InvalidArgumentError(`input '${spec.alias}' of the row has shape ${shapeText(converted.shape)} but the signature expects ${shapeText(want)} per row`);
  }
  return converted;
}

/** Checks that every input can take a batch of rows (a dynamic first dimension, or 1: one row per run). */
export function rowsPerRunLimit(signature: ModelSignature): number {
  let limit = Number.POSITIVE_INFINITY;
  for (const spec of signature.inputs) {
    const batch = spec.shape[0];
    if (batch === undefined || batch === 0 || batch > 1) {
      throw new InvalidArgumentError(`input '${spec.alias}' has shape ${shapeText(spec.shape)}: batch jobs need a first (batch) dimension that is dynamic or 1`);
    }
    if (batch === 1) limit = 1;
  }
  return limit;
}

/** One parsed instance as values per input, or a thrown ServingError saying what is wrong with it. */
export function rowFeeds(signature: ModelSignature, instance: unknown): RowFeeds {
  const inputs = signature.inputs;
  const named = isPlainObject(instance) && !isBase64Object(instance);
  if (inputs.length > 1 && !named) {
    throw new InvalidArgumentError(`the model has ${inputs.length} inputs (${inputs.map((i) => i.alias).join(', ')}): each row must be an object naming them`);
  }
  const feeds: RowFeeds = new Map();
  if (!named) {
    feeds.set(inputs[0]!.alias, rowValue(inputs[0]!, instance));
    return feeds;
  }
  const object = instance as Record<string, unknown>;
  const extra = Object.keys(object).filter((key) => !inputs.some((i) => i.alias === key));
  if (extra.length > 0) throw new InvalidArgumentError(`the row names inputs the model does not have: ${extra.join(', ')}`);
  for (const spec of inputs) {
    if (!(spec.alias in object)) throw new InvalidArgumentError(`the row is missing input '${spec.alias}'`);
    feeds.set(spec.alias, rowValue(spec, object[spec.alias]));
  }
  return feeds;
}

/** Rows can share a run when every input has the same per-row shape. */
export function shapeKey(feeds: RowFeeds): string {
  return [...feeds.values()].map((v) => v.shape.join('x')).join('|');
}

/** Stacks rows of one shape key into feeds for one run, keyed by graph input name. */
export function stackRows(signature: ModelSignature, rows: readonly RowFeeds[]): TensorMap {
  const feeds: TensorMap = {};
  for (const spec of signature.inputs) {
    const type = ortTypeForDataType(spec.dtype)!;
    const first = rows[0]!.get(spec.alias)!;
    const perRow = first.elements.length;
    const dims = [rows.length, ...first.shape];
    if (type === 'string') {
      feeds[spec.name] = new ort.Tensor('string', rows.flatMap((r) => r.get(spec.alias)!.elements as string[]), dims);
      continue;
    }
    const data = new ARRAY_TYPES[type as FixedWidthType](rows.length * perRow);
    rows.forEach((row, r) => {
      const elements = row.get(spec.alias)!.elements;
      for (let i = 0; i < perRow; i++) {
        const value = elements[i] as number | bigint | boolean;
        (data as unknown as Array<number | bigint>)[r * perRow + i] = typeof value === 'boolean' ? Number(value) : value;
      }
    });
    feeds[spec.name] = new ort.Tensor(type as FixedWidthType, data, dims);
  }
  return feeds;
}
