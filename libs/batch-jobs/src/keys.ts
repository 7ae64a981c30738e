/**
 * Where batch jobs live in Redis, under the cluster's prefix (--redis_prefix) so clusters and test
 * runs can share one Redis. The layout is described in docs/batch-jobs.md.
 */
export function batchKeys(prefix: string) {
  return {
    /** Hash: the job record (see job-record.ts). */
    job: (id: string) => `${prefix}batch:job:${id}`,
    /** Sorted set: job id -> creation time (ms), for listing newest first. */
    jobs: `${prefix}batch:jobs`,
    /** Hash: chunk index -> "rows failed" of each chunk whose results part is written. */
    chunks: (id: string) => `${prefix}batch:chunks:${id}`,
    /** BullMQ's `prefix` option: its keys are `<prefix>bull:<queue>:…`. */
    bullPrefix: `${prefix}bull`,
  };
}

export type BatchKeys = ReturnType<typeof batchKeys>;

/** The queue of parent jobs: one per batch job, runnable once every chunk is settled; it writes the results file. */
export const FINALIZE_QUEUE = 'batch-finalize';

/**
 * The queue of a model's chunks. One queue per model, so a worker takes only chunks of models it
 * holds (BullMQ queue names may not contain ':', which encodeURIComponent escapes).
 */
export function chunkQueue(model: string): string {
  return `batch-chunks.${encodeURIComponent(model)}`;
}

/** BullMQ id of a chunk job (custom ids must not be plain integers; these never are). */
export function chunkJobId(jobId: string, chunk: number): string {
  return `${jobId}.${chunk}`;
}

/** The chunk index in a BullMQ job key or id made by chunkJobId. */
export function chunkIndexOf(jobKeyOrId: string): number {
  return Number(jobKeyOrId.slice(jobKeyOrId.lastIndexOf('.') + 1));
}
