export * from './onnx-models.js';
export * from './model-dirs.js';
export * from './serve-process.js';
export * from './tf-serving-client.js';
export * from './wait-for.js';
export * from './versioned-load.js';
