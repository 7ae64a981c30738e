export * from './serving-error.js';
export * from './status-mapping.js';
