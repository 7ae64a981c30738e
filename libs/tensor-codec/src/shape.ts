import type { TensorProto } from '@maas/protos';
import { parseError } from './errors.js';

/** TensorShape::MaxDimensions(); also bounds the work done on a hostile shape. */
const MAX_RANK = 254;
const MAX_DIM = BigInt(Number.MAX_SAFE_INTEGER);

/** Validated dims as numbers (onnxruntime wants number[]); `alias` only feeds error messages. */
export function dimsOf(proto: TensorProto, alias: string | undefined): number[] {
  const shape = proto.tensorShape;
  if (shape === undefined) return []; // no shape = scalar
  if (shape.unknownRank) throw parseError(alias, 'tensor_shape has unknown_rank set; expected a fully defined shape');
  if (shape.dim.length > MAX_RANK) throw parseError(alias, `shape has ${shape.dim.length} dims; expected at most ${MAX_RANK}`);
  return shape.dim.map(({ size }, i) => {
    if (size < 0n) throw parseError(alias, `dim ${i} has size ${size}; expected a size >= 0`);
    if (size > MAX_DIM) throw parseError(alias, `dim ${i} has size ${size}; expected at most ${MAX_DIM}`);
    return Number(size);
  });
}

export function shapeOf(proto: TensorProto): number[] {
  return dimsOf(proto, undefined);
}

/**
 * Element count, refused above `maxElements` before anything is allocated. BigInt keeps the
 * product exact however large the dims (rank is capped, so this is cheap).
 */
export function elementCount(dims: readonly number[], alias: string, maxElements: number): number {
  let count = 1n;
  for (const dim of dims) count *= BigInt(dim);
  if (count > BigInt(maxElements)) {
    throw parseError(alias, `shape [${dims.join(',')}] has ${count} elements; expected at most ${maxElements}`);
  }
  return Number(count);
}
