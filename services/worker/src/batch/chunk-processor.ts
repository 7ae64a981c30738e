import type { Job } from 'bullmq';
import { status } from '@grpc/grpc-js';
import { asServingError } from '@maas/errors';
import { ACTIVE_STATES, errorLine, isEnded, partsDir, readChunkRows, writePart, type ChunkJobData, type JobStore } from '@maas/batch-jobs';
import { recordBatchJobRows } from '@maas/telemetry';
import type { ChunkLines, RowRunner } from './row-runner.js';

export interface ChunkContext {
  store: JobStore;
  runner: RowRunner;
  /** Removes the job's chunks no worker has taken yet (it is over its failure budget). */
  stopRemaining: (jobId: string) => Promise<void>;
  signal: AbortSignal;
}

/** Failures that will not go away by retrying (the input changed, the model cannot take these rows). */
const PERMANENT = new Set<number>([status.INVALID_ARGUMENT, status.FAILED_PRECONDITION]);

/** Every row of the chunk as an error line, for a chunk that failed for good. */
function failedChunk(chunk: ChunkJobData, message: string): ChunkLines {
  const lines = Array.from({ length: chunk.rows }, (_, i) => errorLine(chunk.firstRow + i, message));
  return { lines, failed: chunk.rows, firstError: `row ${chunk.firstRow}: ${message}`, firstErrorRow: chunk.firstRow };
}

/**
 * One chunk: skipped unless its job still takes chunks; else its rows are run and its results
 * part written (replacing any earlier copy), then recorded once in the job's progress. A failure
 * is thrown for BullMQ to retry with backoff; on the last attempt (or one retrying cannot fix)
 * the chunk's rows get error lines instead, so the job goes on.
 */
export async function processChunk(job: Job<ChunkJobData>, context: ChunkContext): Promise<string> {
  const chunk = job.data;
  const record = await context.store.get(chunk.jobId);
  if (!record || !ACTIVE_STATES.includes(record.state)) return `skipped: job ${record?.state ?? 'gone'}`;
  if (record.state === 'QUEUED') await context.store.markStarted(chunk.jobId);
  let result: ChunkLines;
  try {
    result = await context.runner.run(record.model, await readChunkRows(record.inputPath, chunk), context.signal);
  } catch (error) {
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (context.signal.aborted || !(lastAttempt || PERMANENT.has(asServingError(error).code))) throw error;
    result = failedChunk(chunk, `chunk ${chunk.index} failed (attempt ${job.attemptsMade + 1}): ${asServingError(error).message}`);
  }
  await writePart(partsDir(record.outputPath, chunk.jobId), chunk.index, result.lines.join(''));
  const state = await context.store.recordChunk(chunk.jobId, chunk.index, { rows: chunk.rows, failed: result.failed, firstError: result.firstError, firstErrorRow: result.firstErrorRow });
  // A job that ended meanwhile did not count the chunk; neither do the metrics.
  if (state && !isEnded(state)) recordBatchJobRows(chunk.jobId, record.model.name, { done: chunk.rows - result.failed, failed: result.failed });
  if (state === 'FAILING') await context.stopRemaining(chunk.jobId);
  return `${chunk.rows} rows, ${result.failed} failed`;
}
