export * from './scaling-policy.js';
export * from './load-window.js';
export * from './horizontal-autoscaler.js';
export * from './fleet-shortage.js';
export * from './cluster-scaler.js';
export * from './cold-start.js';
export * from './scaling-metrics.js';
