import type { Tensor } from 'onnxruntime-node';
import { DataType, type ClassificationResult, type RegressionResult } from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';
import { dataTypeName } from '@maas/tensor-codec';
import type { ModelSignature, TensorMap, TensorSpec } from '@maas/onnx-runtime';

/** Output aliases TF Serving's classify/regress signatures use (signature_constants.py). */
export const CLASSIFY_OUTPUT_CLASSES = 'classes';
export const CLASSIFY_OUTPUT_SCORES = 'scores';
export const REGRESS_OUTPUT = 'outputs';

const setText = (names: Iterable<string>) => `{${[...names].join(', ')}}`;
const shapeText = (dims: readonly number[]) => `[${dims.join(',')}]`;

export interface ClassifyOutputs {
  classes?: TensorSpec;
  scores?: TensorSpec;
}

/** The `classes` / `scores` outputs (at least one), checked for dtype; FAILED_PRECONDITION otherwise. */
export function classifyOutputs(signature: ModelSignature): ClassifyOutputs {
  const classes = signature.outputs.find((o) => o.alias === CLASSIFY_OUTPUT_CLASSES);
  const scores = signature.outputs.find((o) => o.alias === CLASSIFY_OUTPUT_SCORES);
  if (!classes && !scores) {
    throw new FailedPreconditionError(
      `Expected classification signature outputs to contain at least one of "${CLASSIFY_OUTPUT_CLASSES}" or "${CLASSIFY_OUTPUT_SCORES}"; ` +
        `the model's outputs are ${setText(signature.outputs.map((o) => o.alias))}`,
    );
  }
  if (classes && classes.dtype !== DataType.DT_STRING) {
    throw new FailedPreconditionError(`Expected the "${CLASSIFY_OUTPUT_CLASSES}" output to be string; the model's is ${dataTypeName(classes.dtype)}`);
  }
  if (scores && scores.dtype !== DataType.DT_FLOAT) {
    throw new FailedPreconditionError(`Expected the "${CLASSIFY_OUTPUT_SCORES}" output to be float; the model's is ${dataTypeName(scores.dtype)}`);
  }
  for (const spec of [classes, scores]) {
    // An empty shape may just be unknown; a known rank other than 2 can never be [batch, k].
    if (spec && spec.shape.length > 0 && spec.shape.length !== 2) {
      throw new FailedPreconditionError(`Expected the "${spec.alias}" output to have shape [batch_size, num_classes]; the model's has rank ${spec.shape.length}`);
    }
  }
  return { ...(classes && { classes }), ...(scores && { scores }) };
}

/** The `outputs` output, or the model's only output; FAILED_PRECONDITION otherwise. */
export function regressOutput(signature: ModelSignature): TensorSpec {
  const named = signature.outputs.find((o) => o.alias === REGRESS_OUTPUT);
  const only = signature.outputs.length === 1 ? signature.outputs[0] : undefined;
  const spec = named ?? only;
  if (!spec) {
    throw new FailedPreconditionError(
      `Expected a regression output: a float output named "${REGRESS_OUTPUT}", or a model with exactly one output; ` +
        `the model's outputs are ${setText(signature.outputs.map((o) => o.alias))}`,
    );
  }
  if (spec.dtype !== DataType.DT_FLOAT) {
    throw new FailedPreconditionError(`Expected the regression output "${spec.alias}" to be float; the model's is ${dataTypeName(spec.dtype)}`);
  }
  const [, second, ...rest] = spec.shape;
  const rankOk = spec.shape.length === 0 || spec.shape.length === 1 || (spec.shape.length === 2 && (second === 1 || second === -1) && rest.length === 0);
  if (!rankOk) {
    throw new FailedPreconditionError(`Expected the regression output "${spec.alias}" to have shape [batch_size] or [batch_size, 1]; the model's has shape ${shapeText(spec.shape)}`);
  }
  return spec;
}

function produced(results: TensorMap, spec: TensorSpec): Tensor {
  const tensor = results[spec.name];
  if (!tensor) throw new InvalidArgumentError(`the model produced no value for output '${spec.alias}'`);
  return tensor;
}

/** Output tensors of one run -> one Classifications per example (classifier.cc PostProcessClassificationResult). */
export function classificationResult(outputs: ClassifyOutputs, results: TensorMap, numExamples: number): ClassificationResult {
  const classes = outputs.classes && produced(results, outputs.classes);
  const scores = outputs.scores && produced(results, outputs.scores);
  if (classes) {
    if (classes.type !== 'string') throw new InvalidArgumentError(`Expected classes Tensor of DT_STRING. Got: ${classes.type}`);
    if (classes.dims[0] !== numExamples) throw new InvalidArgumentError(`Expected classes output batch size of ${numExamples}. Got: ${classes.dims[0] ?? 'a scalar'}`);
  }
  if (scores) {
    if (scores.type !== 'float32') throw new InvalidArgumentError(`Expected scores Tensor of DT_FLOAT. Got: ${scores.type}`);
    if (scores.dims[0] !== numExamples) throw new InvalidArgumentError(`Expected scores output batch size of ${numExamples}. Got: ${scores.dims[0] ?? 'a scalar'}`);
  }
  if (classes && scores && shapeText(classes.dims) !== shapeText(scores.dims)) {
    throw new InvalidArgumentError(`Tensors class and score should match in shape. Class shape: ${shapeText(classes.dims)} Score shape: ${shapeText(scores.dims)}`);
  }
  const shaped = (classes ?? scores)!;
  if (shaped.dims.length !== 2) {
    throw new InvalidArgumentError(`Expected Tensor shape: [batch_size num_classes] but got ${shapeText(shaped.dims)}`);
  }
  const k = shaped.dims[1]!;
  const labels = classes?.data as readonly string[] | undefined;
  const values = scores?.data as Float32Array | undefined;
  const classifications: ClassificationResult['classifications'] = [];
  for (let i = 0; i < numExamples; i++) {
    const row: ClassificationResult['classifications'][number] = { classes: [] };
    for (let j = 0; j < k; j++) row.classes.push({ label: labels?.[i * k + j] ?? '', score: values?.[i * k + j] ?? 0 });
    classifications.push(row);
  }
  return { classifications };
}

/** Output tensor of one run -> one Regression per example (regressor.cc PostProcessRegressionResult). */
export function regressionResult(output: TensorSpec, results: TensorMap, numExamples: number): RegressionResult {
  const tensor = produced(results, output);
  if (tensor.type !== 'float32') throw new InvalidArgumentError(`Expected output Tensor of DT_FLOAT. Got: ${tensor.type}`);
  const dims = tensor.dims;
  if (!(dims.length === 1 || (dims.length === 2 && dims[1] === 1))) {
    throw new InvalidArgumentError(`Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got ${shapeText(dims)}`);
  }
  if (dims[0] !== numExamples) {
    throw new InvalidArgumentError(`Input batch size did not match output batch size: ${numExamples} vs. ${dims[0]}`);
  }
  const values = tensor.data as Float32Array;
  return { regressions: Array.from(values.subarray(0, numExamples), (value) => ({ value })) };
}
