export * from './load-meter.js';
export * from './metered-backend.js';
export * from './profile-candidates.js';
export * from './profile-feeds.js';
export * from './vertical-profiler.js';
export * from './scaling-report.js';
