export * from './feature-tensors.js';
export * from './inference-outputs.js';
export * from './run-examples.js';
export * from './multi-inference.js';
