export * from './model-host.js';
export * from './local-backend.js';
export * from './version-scan.js';
export * from './cluster-worker.js';
export * from './version-runner.js';
export * from './devices.js';
export * from './model-health.js';
export * from './load-retries.js';
