export { BatchService, type BatchServiceOptions } from './batch-service.js';
export { addBatchJobsService } from './batch-grpc.js';
export { BATCH_REST_PREFIX, handleBatchRest } from './batch-rest.js';
