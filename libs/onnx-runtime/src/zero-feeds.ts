import ort from 'onnxruntime-node';
import { ARRAY_TYPES, ortTypeForDataType, type FixedWidthType } from '@maas/tensor-codec';
import type { ModelSignature } from './signature.js';

/**
 * Zeros (empty strings) for every input: `rows` in a symbolic first (batch) dim, 1 in other symbolic
 * dims. A synthetic warm-up, probe or profiling input.
 */
export function zeroFeeds(signature: ModelSignature, rows = 1): Record<string, ort.Tensor> {
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
