import type { Redis } from 'ioredis';
import { batchKeys, type BatchKeys } from './keys.js';
import { recordFromHash, recordToHash, type JobRecord, type JobState } from './job-record.js';

const ENDED = "state == 'COMPLETED' or state == 'FAILED' or state == 'CANCELLED'";

/**
 * Records a chunk's written results part. Idempotent: a chunk recorded again (a retry after a
 * crash between writing and acknowledging) replaces its own counts instead of adding to them.
 * Keeps the error of the lowest failed row seen. Moves the job to FAILING once more rows failed
 * than its budget allows. Returns the job state.
 */
const RECORD_CHUNK = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or ${ENDED} then return state end
local rows, failed = tonumber(ARGV[2]), tonumber(ARGV[3])
local old = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ' ' .. ARGV[3])
if old then
  local sep = string.find(old, ' ')
  rows = rows - tonumber(string.sub(old, 1, sep - 1))
  failed = failed - tonumber(string.sub(old, sep + 1))
else
  redis.call('HINCRBY', KEYS[1], 'chunksDone', 1)
end
redis.call('HINCRBY', KEYS[1], 'rowsDone', rows)
local total = redis.call('HINCRBY', KEYS[1], 'rowsFailed', failed)
local firstRow = redis.call('HGET', KEYS[1], 'firstErrorRow')
if ARGV[4] ~= '' and (not firstRow or tonumber(ARGV[5]) < tonumber(firstRow)) then
  redis.call('HSET', KEYS[1], 'firstError', ARGV[4], 'firstErrorRow', ARGV[5])
end
local budget = tonumber(redis.call('HGET', KEYS[1], 'maxFailedRows'))
if (state == 'QUEUED' or state == 'RUNNING') and total > budget then
  state = 'FAILING'
  redis.call('HSET', KEYS[1], 'state', state, 'error',
    total .. ' rows failed, more than the failure budget of ' .. budget .. '; first error: ' .. redis.call('HGET', KEYS[1], 'firstError'))
end
return state
`;

/** QUEUED -> RUNNING when the first chunk starts. Returns the job state. */
const START = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'QUEUED' then
  state = 'RUNNING'
  redis.call('HSET', KEYS[1], 'state', state, 'startedAt', ARGV[1])
end
return state
`;

/** QUEUED/RUNNING -> CANCELLING or FAILING with a reason. Returns the job state. */
const STOP = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'QUEUED' or state == 'RUNNING' then
  state = ARGV[1]
  redis.call('HSET', KEYS[1], 'state', state, 'error', ARGV[2])
end
return state
`;

/** Ends a job once (a finalize that runs again changes nothing). Returns the job state. */
const FINISH = `
local state = redis.call('HGET', KEYS[1], 'state')
if not state or ${ENDED} then return state end
redis.call('HSET', KEYS[1], 'state', ARGV[1], 'resultsPath', ARGV[2], 'finishedAt', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'rowsDone', ARGV[3])
redis.call('HINCRBY', KEYS[1], 'rowsFailed', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'error', ARGV[5]) end
return ARGV[1]
`;

export interface ChunkOutcome {
  rows: number;
  failed: number;
  /** The chunk's first error line's message ('' when none), and its row. */
  firstError: string;
  firstErrorRow: number;
}

export interface JobEnding {
  state: Extract<JobState, 'COMPLETED' | 'FAILED' | 'CANCELLED'>;
  resultsPath: string;
  /** Rows given error lines at the end (chunks that never wrote a part). */
  extraFailedRows: number;
  error: string;
}

/** Batch job records in Redis; every state change is one atomic script. */
export class JobStore {
  readonly keys: BatchKeys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keys = batchKeys(prefix);
  }

  async create(record: JobRecord): Promise<void> {
    await this.redis.multi().hset(this.keys.job(record.id), recordToHash(record)).zadd(this.keys.jobs, record.createdAt, record.id).exec();
  }

  async get(id: string): Promise<JobRecord | undefined> {
    return recordFromHash(await this.redis.hgetall(this.keys.job(id)));
  }

  async state(id: string): Promise<JobState | undefined> {
    return ((await this.redis.hget(this.keys.job(id), 'state')) ?? undefined) as JobState | undefined;
  }

  /** Newest first. */
  async list(limit: number): Promise<JobRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.jobs, 0, limit - 1);
    if (ids.length === 0) return [];
    const batch = this.redis.pipeline();
    for (const id of ids) batch.hgetall(this.keys.job(id));
    const hashes = (await batch.exec()) ?? [];
    return hashes.map(([, hash]) => recordFromHash(hash as Record<string, string>)).filter((r): r is JobRecord => r !== undefined);
  }

  async markStarted(id: string, now = Date.now()): Promise<JobState | undefined> {
    return this.script(START, [this.keys.job(id)], [String(now)]);
  }

  async recordChunk(id: string, chunk: number, outcome: ChunkOutcome): Promise<JobState | undefined> {
    return this.script(RECORD_CHUNK, [this.keys.job(id), this.keys.chunks(id)], [String(chunk), String(outcome.rows), String(outcome.failed), outcome.firstError, String(outcome.firstErrorRow)]);
  }

  /** Stops a QUEUED or RUNNING job from taking new chunks; returns the state after. */
  async stop(id: string, state: 'CANCELLING' | 'FAILING', reason: string): Promise<JobState | undefined> {
    return this.script(STOP, [this.keys.job(id)], [state, reason]);
  }

  async finish(id: string, ending: JobEnding, now = Date.now()): Promise<JobState | undefined> {
    return this.script(
      FINISH,
      [this.keys.job(id)],
      [ending.state, ending.resultsPath, String(ending.extraFailedRows), String(ending.extraFailedRows), ending.error, String(now)],
    );
  }

  private async script(body: string, keys: string[], args: string[]): Promise<JobState | undefined> {
    return ((await this.redis.eval(body, keys.length, ...keys, ...args)) ?? undefined) as JobState | undefined;
  }
}
