export * from './model-entry.js';
export * from './model-catalog.js';
export * from './config-file.js';
export * from './registry-server.js';
