import ort from 'onnxruntime-node';
import { ARRAY_TYPES, ortTypeForDataType, type FixedWidthType } from '@maas/tensor-codec';
import type { ModelSignature } from './signature.js';

/** One row of zeros (empty strings) per input, symbolic dims as 1: a synthetic warm-up/probe input. */
export function zeroFeeds(signature: ModelSignature): Record<string, ort.Tensor> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const spec of signature.inputs) {
    const dims = spec.shape.map((d) => (d < 0 ? 1 : d));
    const count = dims.reduce((a, b) => a * b, 1);
    const type = ortTypeForDataType(spec.dtype)!;
    feeds[spec.name] =
      type === 'string'
        ? new ort.Tensor('string', new Array<string>(count).fill(''), dims)
        : new ort.Tensor(type, new ARRAY_TYPES[type as FixedWidthType](count), dims);
  }
  return feeds;
}
