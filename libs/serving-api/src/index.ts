export * from './serving-backend.js';
export * from './model-spec.js';
