export * from './runtime-options.js';
export * from './signature.js';
export * from './onnx-model.js';
export * from './run-errors.js';
export * from './execution-providers.js';
export { AUTO_PROVIDER, chooseProvider } from './provider-choice.js';
export { zeroFeeds } from './zero-feeds.js';
