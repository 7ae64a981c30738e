import type { Server } from '@grpc/grpc-js';
import {
  BatchJobsService,
  type BatchResultsRequest,
  type CancelBatchJobRequest,
  type GetBatchJobRequest,
  type ListBatchJobsRequest,
  type SubmitBatchJobRequest,
} from '@maas/protos';
import { hardened, unary, type AnyMethod } from '@maas/serving-api';
import type { BatchService } from './batch-service.js';

/** Registers maas.batch.v1.BatchJobs on a gRPC server. */
export function addBatchJobsService(server: Server, service: BatchService): void {
  server.addService(hardened(BatchJobsService as unknown as Record<string, AnyMethod>), {
    submit: unary((request: SubmitBatchJobRequest) => service.submit(request)),
    get: unary((request: GetBatchJobRequest) => service.get(request)),
    cancel: unary((request: CancelBatchJobRequest) => service.cancel(request)),
    list: unary((request: ListBatchJobsRequest) => service.list(request)),
    results: unary((request: BatchResultsRequest) => service.results(request)),
  });
}
