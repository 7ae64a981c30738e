import type { InferenceSession } from 'onnxruntime-node';
import { DataType } from '@maas/protos';
import { dataTypeForOrtType } from '@maas/tensor-codec';
import { FailedPreconditionError } from '@maas/errors';

/** One input or output of a signature: the alias clients use, the graph name, its type and static shape. */
export interface TensorSpec {
  alias: string;
  name: string;
  dtype: DataType;
  /** -1 for a symbolic (dynamic) dim. */
  shape: number[];
}

export interface ModelSignature {
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

export const DEFAULT_SIGNATURE_KEY = 'serving_default';
export const PREDICT_METHOD_NAME = 'tensorflow/serving/predict';

function specFrom(meta: InferenceSession.ValueMetadata, file: string): TensorSpec {
  if (!meta.isTensor) throw new FailedPreconditionError(`${file}: value '${meta.name}' is not a tensor; only tensor inputs and outputs can be served`);
  const dtype = dataTypeForOrtType(meta.type);
  if (dtype === undefined) throw new FailedPreconditionError(`${file}: value '${meta.name}' has type ${meta.type}, which cannot be expressed as a TensorFlow dtype`);
  return {
    alias: meta.name,
    name: meta.name,
    dtype,
    shape: meta.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1)),
  };
}

/** The `serving_default` signature of an ONNX graph: graph inputs and outputs under their own names. */
export function signatureFromSession(session: Pick<InferenceSession, 'inputMetadata' | 'outputMetadata'>, file: string): ModelSignature {
  return {
    inputs: session.inputMetadata.map((meta) => specFrom(meta, file)),
    outputs: session.outputMetadata.map((meta) => specFrom(meta, file)),
  };
}
