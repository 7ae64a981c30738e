import type { Tensor } from 'onnxruntime-node';
import type { TensorProto } from '@maas/protos';
import { InternalError } from '@maas/errors';
import { dataTypeForOrtType } from './dtypes.js';
import { encodeStrings } from './strings.js';
import type { NumericArray } from './typed-arrays.js';

/**
 * onnxruntime Tensor -> TensorProto. Fixed-width data goes out as tensor_content, a byte view over
 * the tensor's own buffer (no per-element work); strings go out as string_val UTF-8 bytes.
 */
export function encodeTensor(tensor: Tensor): TensorProto {
  const dtype = dataTypeForOrtType(tensor.type);
  // Outputs come from the model, so an unrepresentable type is the server's problem.
  if (dtype === undefined) throw new InternalError(`cannot encode an onnxruntime ${tensor.type} tensor: it has no TensorFlow dtype`);
  const isString = tensor.type === 'string';
  const data = tensor.data;
  const numeric = data as NumericArray;
  return {
    dtype,
    tensorShape: { dim: tensor.dims.map((size) => ({ size: BigInt(size), name: '' })), unknownRank: false },
    versionNumber: 0,
    tensorContent: isString ? new Uint8Array(0) : new Uint8Array(numeric.buffer, numeric.byteOffset, numeric.byteLength),
    halfVal: [],
    floatVal: [],
    doubleVal: [],
    intVal: [],
    stringVal: isString ? encodeStrings(data as string[]) : [],
    scomplexVal: [],
    int64Val: [],
    boolVal: [],
    dcomplexVal: [],
    resourceHandleVal: [],
    variantVal: [],
    uint32Val: [],
    uint64Val: [],
    float8Val: new Uint8Array(0),
  };
}
