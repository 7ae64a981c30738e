export * from './keys.js';
export * from './job-record.js';
export * from './job-store.js';
export * from './input-plan.js';
export * from './chunk-input.js';
export * from './result-lines.js';
export * from './result-files.js';
export * from './bull.js';
