export * from './cluster/scheduler.js';
export * from './rest/index.js';
export * from './scaling/index.js';
export * from './dashboard/index.js';
