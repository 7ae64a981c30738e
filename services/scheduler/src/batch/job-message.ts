import { BatchJob_State, type BatchJob, type ModelSpec } from '@maas/protos';
import { isEnded, type BatchModelSpec, type JobRecord } from '@maas/batch-jobs';

export function modelSpecOf(model: BatchModelSpec): ModelSpec {
  return {
    name: model.name,
    signatureName: model.signatureName,
    ...(model.version !== undefined && { version: BigInt(model.version) }),
    ...(model.label !== undefined && { versionLabel: model.label }),
  };
}

/** Rows per second since the first chunk started, and the seconds left at that rate. */
function progress(record: JobRecord, now: number): { rate: number; eta: number } {
  if (!record.startedAt) return { rate: 0, eta: 0 };
  const seconds = ((isEnded(record.state) ? record.finishedAt : now) - record.startedAt) / 1000;
  const rate = seconds > 0 ? record.rowsDone / seconds : 0;
  const running = record.state === 'RUNNING';
  return { rate, eta: running && rate > 0 ? (record.totalRows - record.rowsDone) / rate : 0 };
}

/** The stored record as the API's BatchJob. */
export function jobMessage(record: JobRecord, now = Date.now()): BatchJob {
  const { rate, eta } = progress(record, now);
  return {
    id: record.id,
    state: BatchJob_State[record.state],
    modelSpec: modelSpecOf(record.model),
    inputPath: record.inputPath,
    outputPath: record.outputPath,
    resultsPath: record.resultsPath,
    rowsPerChunk: record.rowsPerChunk,
    priority: record.priority,
    maxFailedRows: BigInt(record.maxFailedRows),
    totalRows: BigInt(record.totalRows),
    rowsDone: BigInt(record.rowsDone),
    rowsFailed: BigInt(record.rowsFailed),
    totalChunks: record.totalChunks,
    chunksDone: record.chunksDone,
    rowsPerSecond: rate,
    etaSeconds: eta,
    error: record.error || record.firstError,
    createdAtMs: BigInt(record.createdAt),
    startedAtMs: BigInt(record.startedAt),
    finishedAtMs: BigInt(record.finishedAt),
  };
}
