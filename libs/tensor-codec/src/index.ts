export { decodeTensor, DEFAULT_MAX_ELEMENTS, type DecodeOptions } from './decode.js';
export { encodeTensor } from './encode.js';
export { ortTypeForDataType, dataTypeForOrtType, dataTypeName } from './dtypes.js';
export { shapeOf } from './shape.js';
export { ARRAY_TYPES, type FixedWidthType, type NumericArray } from './typed-arrays.js';
