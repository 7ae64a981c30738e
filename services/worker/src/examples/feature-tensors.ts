import ort from 'onnxruntime-node';
import { DataType, type Example, type Feature, type Input } from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';
import { DEFAULT_MAX_ELEMENTS, dataTypeName } from '@maas/tensor-codec';
import type { ModelSignature, TensorMap, TensorSpec } from '@maas/onnx-runtime';

/**
 * tf.Example -> ONNX input tensors (docs/classify-regress.md). TF Serving feeds a SavedModel the
 * serialized Examples and lets the graph parse them; an ONNX model takes tensors, so the server
 * does the parsing: each feature feeds the model input of the same name, one row per example.
 */

export type FeatureKind = 'bytes_list' | 'float_list' | 'int64_list';

type FeedType = 'float32' | 'float64' | 'int64' | 'int32' | 'string';

/** What each feedable input dtype is built from. */
const FEEDABLE: ReadonlyMap<DataType, { kind: FeatureKind; type: FeedType }> = new Map([
  [DataType.DT_FLOAT, { kind: 'float_list', type: 'float32' }],
  [DataType.DT_DOUBLE, { kind: 'float_list', type: 'float64' }],
  [DataType.DT_INT64, { kind: 'int64_list', type: 'int64' }],
  [DataType.DT_INT32, { kind: 'int64_list', type: 'int32' }],
  [DataType.DT_STRING, { kind: 'bytes_list', type: 'string' }],
]);

/** How one model input is fed from Examples. */
export interface FeedPlan {
  spec: TensorSpec;
  kind: FeatureKind;
  type: FeedType;
  /** The input's dim 0: -1 (any batch) or 1 (the model runs once per example). */
  batchDim: number;
  /** The non-batch dims; at most one is -1, inferred from the value count. */
  rowDims: number[];
}

const showShape = (shape: readonly number[]) => `[${shape.map((d) => (d < 0 ? '?' : d)).join(',')}]`;

/**
 * Checks that every model input can be fed from Examples; FAILED_PRECONDITION names the input
 * and the reason otherwise (the model cannot serve Classify/Regress whatever the request).
 */
export function planFeeds(signature: ModelSignature): FeedPlan[] {
  return signature.inputs.map((spec) => {
    const feed = FEEDABLE.get(spec.dtype);
    if (!feed) {
      throw new FailedPreconditionError(
        `Model input '${spec.alias}' has type ${dataTypeName(spec.dtype)}, which tf.Example features cannot feed ` +
          `(float_list feeds float or double, int64_list feeds int64 or int32, bytes_list feeds string)`,
      );
    }
    const [batchDim, ...rowDims] = spec.shape;
    if (batchDim === undefined) {
      throw new FailedPreconditionError(
        `Model input '${spec.alias}' is a scalar; Classify and Regress stack one row per example along dim 0, so every input needs a batch dim`,
      );
    }
    if (batchDim !== -1 && batchDim !== 1) {
      throw new FailedPreconditionError(
        `Model input '${spec.alias}' has shape ${showShape(spec.shape)} with a fixed batch dim of ${batchDim}; Classify and Regress need dim 0 to be dynamic or 1`,
      );
    }
    if (rowDims.filter((d) => d < 0).length > 1) {
      throw new FailedPreconditionError(
        `Model input '${spec.alias}' has shape ${showShape(spec.shape)}; at most one non-batch dim may be dynamic when it is fed from tf.Example features`,
      );
    }
    return { spec, kind: feed.kind, type: feed.type, batchDim, rowDims };
  });
}

/** The examples of an Input, with the context (if any) to merge into each; `Input is empty.` if none. */
export interface ExampleBatch {
  examples: readonly Example[];
  context?: Example;
}

export function examplesOf(input: Input | undefined): ExampleBatch {
  const withContext = input?.exampleListWithContext;
  const batch: ExampleBatch = withContext
    ? { examples: withContext.examples, context: withContext.context }
    : { examples: input?.exampleList?.examples ?? [] };
  if (batch.examples.length === 0) throw new InvalidArgumentError('Input is empty.');
  return batch;
}

/** Feature `name` of example `index`: its own value wins over the context's (proto merge of a map entry). */
function featureOf(batch: ExampleBatch, index: number, name: string): Feature | undefined {
  const own = batch.examples[index]?.features?.feature;
  if (own && Object.hasOwn(own, name)) return own[name];
  const shared = batch.context?.features?.feature;
  if (shared && Object.hasOwn(shared, name)) return shared[name];
  return undefined;
}

type FeatureValues = readonly number[] | readonly bigint[] | readonly Uint8Array[];

function valuesOf(feature: Feature): { kind: FeatureKind | undefined; values: FeatureValues } {
  if (feature.bytesList) return { kind: 'bytes_list', values: feature.bytesList.value };
  if (feature.floatList) return { kind: 'float_list', values: feature.floatList.value };
  if (feature.int64List) return { kind: 'int64_list', values: feature.int64List.value };
  return { kind: undefined, values: [] };
}

const withArticle = (kind: FeatureKind) => `${kind === 'int64_list' ? 'an' : 'a'} ${kind}`;

const INPUT_TYPE_NAMES: Record<FeedType, string> = { float32: 'float', float64: 'double', int64: 'int64', int32: 'int32', string: 'string' };

/** One input's values for examples [start, end), checked, before anything is allocated. */
function featureRows(plan: FeedPlan, batch: ExampleBatch, start: number, end: number): { rows: FeatureValues[]; rowDims: number[] } {
  const name = plan.spec.alias;
  const rows: FeatureValues[] = [];
  const fixed = plan.rowDims.reduce((product, d) => (d < 0 ? product : product * d), 1);
  const dynamic = plan.rowDims.some((d) => d < 0);
  let count: number | undefined;
  let countFrom = start;
  for (let i = start; i < end; i++) {
    const feature = featureOf(batch, i, name);
    if (!feature) throw new InvalidArgumentError(`Example ${i} is missing feature '${name}', which feeds model input '${name}'`);
    const { kind, values } = valuesOf(feature);
    if (kind !== plan.kind) {
      throw new InvalidArgumentError(
        `Feature '${name}' of example ${i} is ${kind ? withArticle(kind) : 'empty (no bytes_list, float_list or int64_list)'}; ` +
          `model input '${name}' is ${INPUT_TYPE_NAMES[plan.type]} and needs ${withArticle(plan.kind)}`,
      );
    }
    if (dynamic ? (fixed === 0 ? values.length !== 0 : values.length % fixed !== 0) : values.length !== fixed) {
      throw new InvalidArgumentError(
        `Feature '${name}' of example ${i} has ${values.length} values; model input '${name}' has shape ${showShape(plan.spec.shape)}, ` +
          (dynamic ? `so each example needs a multiple of ${fixed}` : `so each example needs exactly ${fixed}`),
      );
    }
    if (count === undefined) {
      count = values.length;
      countFrom = i;
    } else if (values.length !== count) {
      throw new InvalidArgumentError(
        `Feature '${name}' has ${count} values in example ${countFrom} but ${values.length} in example ${i}; every example must give the same number of values`,
      );
    }
    rows.push(values);
  }
  const inferred = fixed === 0 ? 0 : (count ?? 0) / fixed;
  return { rows, rowDims: plan.rowDims.map((d) => (d < 0 ? inferred : d)) };
}

const INT32_MIN = -(2n ** 31n);
const INT32_MAX = 2n ** 31n - 1n;

function stack(plan: FeedPlan, rows: FeatureValues[], dims: number[], first: number): ort.Tensor {
  const name = plan.spec.alias;
  const total = dims.reduce((a, b) => a * b, 1);
  switch (plan.type) {
    case 'float32':
    case 'float64': {
      const data = plan.type === 'float32' ? new Float32Array(total) : new Float64Array(total);
      let at = 0;
      for (const row of rows) for (const v of row as readonly number[]) data[at++] = v;
      return data instanceof Float32Array ? new ort.Tensor('float32', data, dims) : new ort.Tensor('float64', data, dims);
    }
    case 'int64': {
      const data = new BigInt64Array(total);
      let at = 0;
      for (const row of rows) for (const v of row as readonly bigint[]) data[at++] = BigInt.asIntN(64, BigInt(v));
      return new ort.Tensor('int64', data, dims);
    }
    case 'int32': {
      const data = new Int32Array(total);
      let at = 0;
      rows.forEach((row, r) => {
        for (const raw of row as readonly bigint[]) {
          const v = BigInt(raw);
          if (v < INT32_MIN || v > INT32_MAX) {
            throw new InvalidArgumentError(`Feature '${name}' of example ${first + r} has value ${v}, outside the int32 range of model input '${name}'`);
          }
          data[at++] = Number(v);
        }
      });
      return new ort.Tensor('int32', data, dims);
    }
    case 'string': {
      const data = new Array<string>(total);
      let at = 0;
      // onnxruntime string tensors hold JS strings: bytes are read as UTF-8 (as the Predict codec does).
      for (const row of rows) for (const v of row as readonly Uint8Array[]) data[at++] = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
      return new ort.Tensor('string', data, dims);
    }
  }
}

export interface FeedLimits {
  /** Most elements one input tensor may have (context features repeat into every row). */
  maxElements?: number;
}

/**
 * Examples [start, end) of the batch as feeds keyed by graph input name, stacked along dim 0.
 * Missing features, wrong kinds and wrong value counts are INVALID_ARGUMENT naming the feature
 * and the example index.
 */
export function feedsFromExamples(plans: readonly FeedPlan[], batch: ExampleBatch, limits: FeedLimits = {}, start = 0, end = batch.examples.length): TensorMap {
  const maxElements = limits.maxElements ?? DEFAULT_MAX_ELEMENTS;
  const feeds: TensorMap = {};
  for (const plan of plans) {
    const { rows, rowDims } = featureRows(plan, batch, start, end);
    const dims = [end - start, ...rowDims];
    const total = dims.reduce((a, b) => a * b, 1);
    if (total > maxElements) {
      throw new InvalidArgumentError(
        `Model input '${plan.spec.alias}' would get ${total} elements from ${end - start} examples (shape ${showShape(dims)}), more than the limit of ${maxElements}`,
      );
    }
    feeds[plan.spec.name] = stack(plan, rows, dims, start);
  }
  return feeds;
}
