export * from './cluster-snapshot.js';
export * from './dashboard-pages.js';
export * from './batch-job-progress.js';
