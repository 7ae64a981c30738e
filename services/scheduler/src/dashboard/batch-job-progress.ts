import { batchJob_StateToJSON, type BatchJob } from '@maas/protos';
import type { BatchJobProgress } from './cluster-snapshot.js';

/** A BatchJobs API job as a dashboard row. */
export function batchJobProgress(job: BatchJob): BatchJobProgress {
  return {
    id: job.id,
    model: job.modelSpec?.name ?? '',
    state: batchJob_StateToJSON(job.state),
    totalRows: Number(job.totalRows),
    rowsDone: Number(job.rowsDone),
    rowsFailed: Number(job.rowsFailed),
  };
}
