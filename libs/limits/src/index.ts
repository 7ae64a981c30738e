export * from './request-limits.js';
export { screenRequestBytes, isScreenedMethod } from './wire-scan.js';
export { checkPredictRequest, checkExampleInput } from './decoded-check.js';
export { InFlightPerClient } from './in-flight.js';
export { limitedBackend } from './limited-backend.js';
