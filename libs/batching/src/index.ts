export { DynamicBatcher, type BatchMembers, type RunBatch, type SubmitOptions } from './dynamic-batcher.js';
export {
  batchingOptionsFromParameters,
  defaultBatchingOptions,
  validateBatchingOptions,
  type BatchingOptions,
} from './options.js';
export { concatRows, requestRows, shapeSignature, sliceRows, splitRows, type RowSlice, type TensorMap } from './tensor-rows.js';
