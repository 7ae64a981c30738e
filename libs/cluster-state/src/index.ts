export * from './types.js';
export * from './scaling-types.js';
export * from './scaling-describe.js';
export * from './keys.js';
export * from './cluster-state.js';
export * from './model-status.js';
export * from './model-meter.js';
