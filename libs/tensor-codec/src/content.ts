import type { DataType } from '@maas/protos';
import { dataTypeName } from './dtypes.js';
import { parseError } from './errors.js';
import { ARRAY_TYPES, type FixedWidthType, type NumericArray } from './typed-arrays.js';

/**
 * tensor_content (packed little-endian) as the typed array onnxruntime will read. It is a view
 * over the request's own bytes, so large inputs are never copied element by element.
 */
export function viewContent(type: FixedWidthType, content: Uint8Array, count: number, alias: string, dtype: DataType): NumericArray {
  const ArrayType = ARRAY_TYPES[type];
  const size = ArrayType.BYTES_PER_ELEMENT;
  if (content.byteLength !== count * size) {
    throw parseError(alias, `tensor_content has ${content.byteLength} bytes; expected ${count * size} (${count} ${dataTypeName(dtype)} elements of ${size} bytes)`);
  }
  // Typed-array views need an offset aligned to the element size; grpc-js often hands us slices
  // at odd offsets of a larger buffer, and only then do we pay for one bulk copy.
  const bytes = content.byteOffset % size === 0 ? content : new Uint8Array(content);
  return new ArrayType(bytes.buffer, bytes.byteOffset, count);
}
