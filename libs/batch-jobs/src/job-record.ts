/** A batch job's life: QUEUED -> RUNNING -> COMPLETED, or via CANCELLING/FAILING to CANCELLED/FAILED. */
export const JOB_STATES = ['QUEUED', 'RUNNING', 'CANCELLING', 'FAILING', 'COMPLETED', 'FAILED', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];

/** States in which chunks are still taken. */
export const ACTIVE_STATES: readonly JobState[] = ['QUEUED', 'RUNNING'];
export const ENDED_STATES: readonly JobState[] = ['COMPLETED', 'FAILED', 'CANCELLED'];

export const isEnded = (state: JobState) => ENDED_STATES.includes(state);

/** Which model version runs the rows: the latest, a version, or a label (as a TF Serving ModelSpec). */
export interface BatchModelSpec {
  name: string;
  version?: number;
  label?: string;
  /** '' means serving_default. */
  signatureName: string;
}

/** What a submitter chose; fixed for the job's life. */
export interface JobSpec {
  model: BatchModelSpec;
  /** '' when the rows were sent inline. */
  inputPath: string;
  outputPath: string;
  rowsPerChunk: number;
  /** 0..1000, higher first. */
  priority: number;
  maxFailedRows: number;
}

/** The job as stored in its Redis hash: the spec plus progress, all kept by job-store.ts. */
export interface JobRecord extends JobSpec {
  id: string;
  state: JobState;
  totalRows: number;
  totalChunks: number;
  /** Rows with a result line, and how many of those are error lines. */
  rowsDone: number;
  rowsFailed: number;
  chunksDone: number;
  /** Why the job failed or was cancelled. */
  error: string;
  /** The error of the lowest failed row so far, for messages. */
  firstError: string;
  /** Set once the job has ended. */
  resultsPath: string;
  createdAt: number;
  startedAt: number;
  finishedAt: number;
}

/** Hash fields as written; numbers as decimal text, the model spec as JSON. */
export function recordToHash(record: JobRecord): Record<string, string> {
  const hash: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) hash[key] = key === 'model' ? JSON.stringify(value) : String(value);
  return hash;
}

const NUMBER_FIELDS = [
  'rowsPerChunk',
  'priority',
  'maxFailedRows',
  'totalRows',
  'totalChunks',
  'rowsDone',
  'rowsFailed',
  'chunksDone',
  'createdAt',
  'startedAt',
  'finishedAt',
] as const;

/** The record from HGETALL; undefined for a missing key (an empty hash). */
export function recordFromHash(hash: Record<string, string>): JobRecord | undefined {
  if (!hash.id) return undefined;
  const record = {
    id: hash.id,
    state: hash.state as JobState,
    model: JSON.parse(hash.model ?? '{}') as BatchModelSpec,
    inputPath: hash.inputPath ?? '',
    outputPath: hash.outputPath ?? '',
    error: hash.error ?? '',
    firstError: hash.firstError ?? '',
    resultsPath: hash.resultsPath ?? '',
  } as JobRecord;
  for (const field of NUMBER_FIELDS) record[field] = Number(hash[field] ?? 0);
  return record;
}
