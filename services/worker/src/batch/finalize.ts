import { readdir } from 'node:fs/promises';
import type { Job } from 'bullmq';
import {
  assembleFile,
  chunkIndexOf,
  errorLine,
  isEnded,
  partialPath,
  partsDir,
  readPart,
  removeParts,
  type FinalizeJobData,
  type JobEnding,
  type JobRecord,
  type JobStore,
} from '@maas/batch-jobs';
import { recordBatchJobRows } from '@maas/telemetry';

/** Chunk indices that have a results part. */
async function writtenParts(dir: string): Promise<Set<number>> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  return new Set(names.filter((n) => /^chunk-\d+\.jsonl$/.test(n)).map((n) => Number(n.slice(6, -6))));
}

function chunkRows(record: JobRecord, chunk: number): { first: number; count: number } {
  const first = chunk * record.rowsPerChunk;
  return { first, count: Math.min(record.rowsPerChunk, record.totalRows - first) };
}

/**
 * How the job ends, from its state and the parts written. A job still RUNNING has had every chunk
 * settled: chunks that failed for good (BullMQ gave up on them) get error lines, and the failure
 * budget decides COMPLETED or FAILED. A stopped job (cancelled, over budget) keeps what it processed.
 */
function ending(record: JobRecord, missing: number[], failures: Map<number, string>): JobEnding & { missingLines: boolean } {
  if (record.state === 'CANCELLING' || record.state === 'FAILING') {
    const state = record.state === 'CANCELLING' ? 'CANCELLED' : 'FAILED';
    return { state, resultsPath: partialPath(record.outputPath), extraFailedRows: 0, error: record.error, missingLines: false };
  }
  const extra = missing.reduce((sum, chunk) => sum + chunkRows(record, chunk).count, 0);
  const failed = record.rowsFailed + extra;
  if (failed > record.maxFailedRows) {
    const first = record.firstError || (missing.length > 0 ? `chunk ${missing[0]}: ${failures.get(missing[0]!) ?? 'not processed'}` : '');
    return {
      state: 'FAILED',
      resultsPath: partialPath(record.outputPath),
      extraFailedRows: extra,
      error: `${failed} rows failed, more than the failure budget of ${record.maxFailedRows}; first error: ${first}`,
      missingLines: true,
    };
  }
  return { state: 'COMPLETED', resultsPath: record.outputPath, extraFailedRows: extra, error: '', missingLines: true };
}

/**
 * The parent job, run once every chunk is settled: concatenates the parts in chunk order into
 * the results file (replaced whole, so running again is harmless), records the end, and only
 * then removes the parts. On its last attempt a failure to write ends the job FAILED.
 */
export async function finalizeJob(job: Job<FinalizeJobData>, store: JobStore): Promise<string> {
  const record = await store.get(job.data.jobId);
  if (!record || isEnded(record.state)) return `already ${record?.state ?? 'gone'}`;
  const dir = partsDir(record.outputPath, record.id);
  try {
    const failures = new Map(Object.entries(await job.getIgnoredChildrenFailures()).map(([key, reason]) => [chunkIndexOf(key), reason]));
    const written = await writtenParts(dir);
    const missing = Array.from({ length: record.totalChunks }, (_, i) => i).filter((i) => !written.has(i));
    const end = ending(record, missing, failures);
    const pieces = Array.from({ length: record.totalChunks }, (_, chunk) => async () => {
      if (written.has(chunk)) return (await readPart(dir, chunk)) ?? '';
      if (!end.missingLines) return '';
      const { first, count } = chunkRows(record, chunk);
      const reason = `chunk ${chunk} was not processed: ${failures.get(chunk) ?? 'its results part is missing'}`;
      return Array.from({ length: count }, (_, i) => errorLine(first + i, reason)).join('');
    });
    await assembleFile(end.resultsPath, pieces);
    await store.finish(record.id, end);
    recordBatchJobRows(record.id, record.model.name, { failed: end.extraFailedRows });
    await removeParts(dir);
    return `${end.state}: ${end.resultsPath}`;
  } catch (error) {
    if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
    const message = `results could not be written: ${(error as Error).message}`;
    await store.finish(record.id, { state: 'FAILED', resultsPath: '', extraFailedRows: 0, error: message });
    // The job has ended: nothing reads its parts again, so they do not stay behind on the shared storage.
    await removeParts(dir).catch(() => {});
    return `FAILED: ${message}`;
  }
}
