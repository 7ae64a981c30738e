export * from './onnx-models.js';
export * from './model-dirs.js';
