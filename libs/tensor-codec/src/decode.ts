import ort, { type Tensor } from 'onnxruntime-node';
import { DataType, type TensorProto } from '@maas/protos';
import { InvalidArgumentError } from '@maas/errors';
import { codecTypeForDataType, dataTypeName, type CodecOrtType } from './dtypes.js';
import { parseError } from './errors.js';
import { dimsOf, elementCount } from './shape.js';
import { viewContent } from './content.js';
import { fromTypedField } from './typed-fields.js';
import { decodeStringContent, decodeStringVal } from './strings.js';

export interface DecodeOptions {
  /** Input alias, named in every error message. */
  alias: string;
  /** From the model signature; a different dtype is refused. */
  expectedDtype?: DataType;
  /** Element limit, checked before anything is allocated; default DEFAULT_MAX_ELEMENTS. */
  maxElements?: number;
}

/** 2^28 elements: 1 GiB of float32, far above any sane request yet below what would exhaust memory. */
export const DEFAULT_MAX_ELEMENTS = 1 << 28;

/** The onnxruntime type for the proto's dtype, or the reason the request cannot be served. */
function checkedType(dtype: DataType, { alias, expectedDtype }: DecodeOptions): CodecOrtType {
  if (dtype === DataType.DT_INVALID) throw parseError(alias, 'dtype is DT_INVALID; expected a valid dtype');
  if (expectedDtype !== undefined && dtype !== expectedDtype) {
    // Same wording as TF's session-side check ("Expects arg[0] to be float but bool is provided").
    throw new InvalidArgumentError(`Expects arg '${alias}' to be ${dataTypeName(expectedDtype)} but ${dataTypeName(dtype)} is provided`);
  }
  const type = codecTypeForDataType(dtype);
  if (type !== undefined) return type;
  if (dtype === DataType.DT_BFLOAT16) {
    throw parseError(alias, 'dtype bfloat16 is not supported by the runtime (onnxruntime-node cannot create bfloat16 tensors); send float or half instead');
  }
  throw parseError(alias, `dtype ${dataTypeName(dtype)} is not supported; expected one of float, double, half, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, string`);
}

function checkedLimit(maxElements: number | undefined): number {
  const limit = maxElements ?? DEFAULT_MAX_ELEMENTS;
  // A bad limit is a server bug, not a client error.
  if (!Number.isSafeInteger(limit) || limit < 0) throw new TypeError(`maxElements must be a non-negative safe integer, got ${limit}`);
  return limit;
}

/** TensorProto -> onnxruntime Tensor, validating everything a client controls. */
export function decodeTensor(proto: TensorProto, options: DecodeOptions): Tensor {
  const { alias } = options;
  const type = checkedType(proto.dtype, options);
  const dims = dimsOf(proto, alias);
  const count = elementCount(dims, alias, checkedLimit(options.maxElements));
  // Non-empty tensor_content wins over the typed fields (Tensor::FromProto).
  const content = proto.tensorContent;
  const packed = content.byteLength > 0;
  if (type === 'string') {
    const strings = packed ? decodeStringContent(content, count, alias) : decodeStringVal(proto, count);
    return new ort.Tensor('string', strings, dims);
  }
  const data = packed ? viewContent(type, content, count, alias, proto.dtype) : fromTypedField(type, proto, count);
  return new ort.Tensor(type, data, dims);
}
