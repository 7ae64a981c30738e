export * from './runtime-options.js';
export * from './signature.js';
export * from './onnx-model.js';
export * from './run-errors.js';
