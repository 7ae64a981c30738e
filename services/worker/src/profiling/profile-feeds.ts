import ort from 'onnxruntime-node';
import { ARRAY_TYPES, ortTypeForDataType, type FixedWidthType } from '@maas/tensor-codec';
import type { ModelSignature } from '@maas/onnx-runtime';

/** The batch size a model accepts: any (undefined) when every input's first dim is symbolic, else that fixed dim. */
export function fixedBatchSize(signature: ModelSignature): number | undefined {
  const first = signature.inputs.map((i) => i.shape[0]).find((d) => d !== undefined && d >= 0);
  return first;
}

/** Zero inputs with `rows` in the first (batch) dim and 1 in other symbolic dims. */
export function batchFeeds(signature: ModelSignature, rows: number): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of signature.inputs) {
    const dims = spec.shape.map((d, i) => (d >= 0 ? d : i === 0 ? rows : 1));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = ortTypeForDataType(spec.dtype)!;
    feeds[spec.name] =
      type === 'string'
        ? new ort.Tensor('string', new Array<string>(count).fill(''), dims)
        : new ort.Tensor(type, new ARRAY_TYPES[type as FixedWidthType](count), dims);
  }
  return feeds;
}
