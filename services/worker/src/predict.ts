import type { Tensor } from 'onnxruntime-node';
import type { PredictRequest, TensorProto } from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError } from '@maas/errors';
import { decodeTensor, encodeTensor } from '@maas/tensor-codec';
import { DEFAULT_SIGNATURE } from '@maas/serving-api';
import type { ModelSignature, TensorMap, TensorSpec } from '@maas/onnx-runtime';

const setText = (names: Iterable<string>) => `{${[...names].sort().join(', ')}}`;

/** Predict's checks before anything is decoded (predict_util.cc wording, shared/spec §6.2). */
export function checkSignatureName(signatureName: string): void {
  if (signatureName !== DEFAULT_SIGNATURE) throw new FailedPreconditionError(`Serving signature key "${signatureName}" not found.`);
}

export function checkInputAliases(signature: ModelSignature, sent: Iterable<string>): void {
  const expected = new Set(signature.inputs.map((i) => i.alias));
  const given = new Set(sent);
  const extra = [...given].filter((a) => !expected.has(a));
  const missing = [...expected].filter((a) => !given.has(a));
  if (extra.length === 0 && missing.length === 0) return;
  throw new InvalidArgumentError(
    `input size does not match signature: ${given.size}!=${expected.size} for inputs ${setText(given)} and signature inputs ${setText(expected)}. ` +
      `Sent extra: ${setText(extra)}. Missing but required: ${setText(missing)}.`,
  );
}

/** The outputs to compute: the filter in request order, or every output of the signature. */
export function selectOutputs(signature: ModelSignature, filter: readonly string[]): TensorSpec[] {
  if (filter.length === 0) return signature.outputs;
  const seen = new Set<string>();
  return filter.map((alias) => {
    const spec = signature.outputs.find((o) => o.alias === alias);
    if (!spec) {
      throw new InvalidArgumentError(
        `output tensor alias not found in signature: ${alias} Outputs expected to be in the set ${setText(signature.outputs.map((o) => o.alias))}.`,
      );
    }
    if (seen.has(alias)) throw new InvalidArgumentError(`duplicate output tensor alias: ${alias}`);
    seen.add(alias);
    return spec;
  });
}

/** Rank and fixed dims checked here give a message naming the alias, not onnxruntime's wording. */
function checkShape(spec: TensorSpec, tensor: Tensor): void {
  const dims = tensor.dims;
  const mismatch =
    dims.length !== spec.shape.length || spec.shape.some((want, i) => want >= 0 && want !== dims[i]);
  if (mismatch) {
    const show = (shape: readonly number[]) => `[${shape.map((d) => (d < 0 ? '?' : d)).join(',')}]`;
    throw new InvalidArgumentError(`input '${spec.alias}' has shape ${show(dims)} but the signature expects ${show(spec.shape)}`);
  }
}

export interface DecodeLimits {
  maxElements?: number;
}

/** Decodes and checks every input tensor against its signature entry, keyed by graph name. */
export function decodeInputs(signature: ModelSignature, inputs: Record<string, TensorProto>, limits: DecodeLimits): TensorMap {
  const feeds: TensorMap = {};
  for (const spec of signature.inputs) {
    const proto = inputs[spec.alias]!;
    const tensor = decodeTensor(proto, { alias: spec.alias, expectedDtype: spec.dtype, maxElements: limits.maxElements });
    checkShape(spec, tensor);
    feeds[spec.name] = tensor;
  }
  return feeds;
}

export function encodeOutputs(outputs: TensorSpec[], results: TensorMap): Record<string, TensorProto> {
  const encoded: Record<string, TensorProto> = {};
  for (const spec of outputs) {
    const tensor = results[spec.name];
    if (!tensor) throw new InvalidArgumentError(`the model produced no value for output '${spec.alias}'`);
    encoded[spec.alias] = encodeTensor(tensor);
  }
  return encoded;
}

/** A request's inputs as decoded feeds plus the outputs it wants (everything before running). */
export function preparePredict(signature: ModelSignature, request: PredictRequest, limits: DecodeLimits) {
  checkInputAliases(signature, Object.keys(request.inputs));
  const outputs = selectOutputs(signature, request.outputFilter);
  const feeds = decodeInputs(signature, request.inputs, limits);
  return { feeds, outputs };
}
