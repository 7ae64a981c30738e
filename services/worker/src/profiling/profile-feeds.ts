import ort from 'onnxruntime-node';
import { zeroFeeds, type ModelSignature } from '@maas/onnx-runtime';

/** The batch size a model accepts: any (undefined) when every input's first dim is symbolic, else that fixed dim. */
export function fixedBatchSize(signature: ModelSignature): number | undefined {
  const first = signature.inputs.map((i) => i.shape[0]).find((d) => d !== undefined && d >= 0);
  return first;
}

/** Zero inputs with `rows` in the first (batch) dim and 1 in other symbolic dims. */
export function batchFeeds(signature: ModelSignature, rows: number): Record<string, ort.Tensor> {
  return zeroFeeds(signature, rows);
}
