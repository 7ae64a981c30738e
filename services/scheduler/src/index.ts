export * from './cluster/scheduler.js';
export * from './rest/index.js';
