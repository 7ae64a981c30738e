import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import type { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type {
  BatchJob,
  BatchResultsRequest,
  BatchResultsResponse,
  CancelBatchJobRequest,
  GetBatchJobRequest,
  ListBatchJobsRequest,
  ListBatchJobsResponse,
  SubmitBatchJobRequest,
} from '@maas/protos';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, UnavailableError } from '@maas/errors';
import {
  bullConnection,
  bullPriority,
  chunkJobId,
  chunkQueue,
  FINALIZE_QUEUE,
  isEnded,
  JobStore,
  MAX_PRIORITY,
  planFileInput,
  planInlineInput,
  prepareOutput,
  removeParts,
  type BatchModelSpec,
  type ChunkJobData,
  type FinalizeJobData,
  type InputPlan,
  type JobRecord,
} from '@maas/batch-jobs';
import type { WorkerView } from '../cluster/worker-view.js';
import { jobMessage } from './job-message.js';
import { checkModel } from './model-check.js';
import { readResultsPage } from './results-page.js';

const DEFAULT_ROWS_PER_CHUNK = 500;
const MAX_ROWS_PER_CHUNK = 100_000;
/** The failure budget when the submitter sets none. */
const DEFAULT_FAILED_FRACTION = 0.1;
const DEFAULT_LIST = 20;
const MAX_LIST = 1000;
const DEFAULT_PAGE = 1000;
const MAX_PAGE = 10_000;

/** Chunks retry with exponential backoff: 1, 2, 4, 8 s (then their rows get error lines). */
const CHUNK_RETRY = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;
const FINALIZE_RETRY = { attempts: 5, backoff: { type: 'exponential', delay: 1000 } } as const;
const DAY_SECONDS = 24 * 3600;

export interface BatchServiceOptions {
  redis: Redis;
  prefix: string;
  view: Pick<WorkerView, 'catalog' | 'workers'>;
  log: (message: string) => void;
}

function jobIdOf(request: { id: string }): string {
  if (!request.id) throw new InvalidArgumentError('job id is required');
  return request.id;
}

/** The submit's arguments apart from the model, input and output checks; returns the rows per chunk. */
function checkSubmitArguments(request: SubmitBatchJobRequest): number {
  const rowsPerChunk = request.rowsPerChunk || DEFAULT_ROWS_PER_CHUNK;
  if (rowsPerChunk > MAX_ROWS_PER_CHUNK) throw new InvalidArgumentError(`rows_per_chunk must be at most ${MAX_ROWS_PER_CHUNK}`);
  if (request.priority > MAX_PRIORITY) throw new InvalidArgumentError(`priority must be within 0..${MAX_PRIORITY}`);
  const inline = request.instances.length > 0;
  if (inline === (request.inputPath !== '')) throw new InvalidArgumentError('give exactly one of input_path and instances');
  if (!inline && !isAbsolute(request.inputPath)) throw new InvalidArgumentError(`input_path must be absolute (on storage the workers share), got ${request.inputPath}`);
  if (!inline && resolve(request.inputPath) === resolve(request.outputPath)) throw new InvalidArgumentError('output_path must differ from input_path');
  return rowsPerChunk;
}

function newRecord(id: string, model: BatchModelSpec, request: SubmitBatchJobRequest, rowsPerChunk: number, plan: InputPlan): JobRecord {
  return {
    id,
    state: 'QUEUED',
    model,
    inputPath: request.inputPath,
    outputPath: request.outputPath,
    rowsPerChunk,
    priority: request.priority,
    maxFailedRows: request.maxFailedRows !== undefined ? Number(request.maxFailedRows) : Math.ceil(plan.totalRows * DEFAULT_FAILED_FRACTION),
    totalRows: plan.totalRows,
    totalChunks: plan.chunks.length,
    rowsDone: 0,
    rowsFailed: 0,
    chunksDone: 0,
    error: '',
    firstError: '',
    resultsPath: '',
    createdAt: Date.now(),
    startedAt: 0,
    finishedAt: 0,
  };
}

/**
 * The BatchJobs API on the scheduler: checks and queues jobs as BullMQ flows (a finalize parent
 * with one child per chunk, docs/batch-jobs.md), reads their progress, cancels them.
 */
export class BatchService {
  private readonly store: JobStore;
  /** BullMQ's producer side, loaded on first use (off the scheduler's start-up path). */
  private bull?: Promise<{ flows: FlowProducer; finalizeQueue: Queue<FinalizeJobData> }>;

  constructor(private readonly options: BatchServiceOptions) {
    this.store = new JobStore(options.redis, options.prefix);
  }

  private queues() {
    this.bull ??= import('bullmq').then(({ FlowProducer, Queue }) => {
      const connection = { connection: bullConnection(this.options.redis), prefix: this.store.keys.bullPrefix };
      const flows = new FlowProducer(connection);
      const finalizeQueue = new Queue<FinalizeJobData>(FINALIZE_QUEUE, connection);
      flows.on('error', (error) => this.options.log(`batch flows: ${error.message}`));
      finalizeQueue.on('error', (error) => this.options.log(`batch finalize queue: ${error.message}`));
      return { flows, finalizeQueue };
    });
    return this.bull;
  }

  async submit(request: SubmitBatchJobRequest): Promise<BatchJob> {
    const model = checkModel(this.options.view, request.modelSpec);
    const rowsPerChunk = checkSubmitArguments(request);
    const id = randomUUID();
    const partsDir = await prepareOutput(request.outputPath, id);
    let plan: InputPlan;
    try {
      plan = request.inputPath ? await planFileInput(request.inputPath, rowsPerChunk) : planInlineInput(request.instances, rowsPerChunk);
    } catch (error) {
      await removeParts(partsDir);
      throw error;
    }
    const record = newRecord(id, model, request, rowsPerChunk, plan);
    // The record first: a worker that takes a chunk looks the job up.
    try {
      await this.store.create(record);
    } catch (error) {
      await removeParts(partsDir);
      throw new UnavailableError(`batch job could not be recorded: ${(error as Error).message}`);
    }
    try {
      await this.enqueue(record, plan);
    } catch (error) {
      const message = `could not be queued: ${(error as Error).message}`;
      await this.store.finish(id, { state: 'FAILED', resultsPath: '', extraFailedRows: 0, error: message }).catch(() => {});
      await removeParts(partsDir);
      throw new UnavailableError(`batch job ${message}`);
    }
    this.options.log(`batch job ${id}: ${plan.totalRows} rows of ${model.name} in ${plan.chunks.length} chunks -> ${request.outputPath}`);
    return jobMessage(record);
  }

  /** One flow: the finalize parent waits for every chunk child (a failed chunk does not block it). */
  private async enqueue(record: JobRecord, plan: InputPlan): Promise<void> {
    const priority = bullPriority(record.priority);
    const { flows } = await this.queues();
    await flows.add({
      name: 'finalize',
      queueName: FINALIZE_QUEUE,
      data: { jobId: record.id } satisfies FinalizeJobData,
      opts: { jobId: record.id, priority, ...FINALIZE_RETRY, removeOnComplete: true, removeOnFail: { age: 7 * DAY_SECONDS } },
      children: plan.chunks.map((chunk) => ({
        name: 'chunk',
        queueName: chunkQueue(record.model.name),
        data: { jobId: record.id, ...chunk } satisfies ChunkJobData,
        opts: {
          jobId: chunkJobId(record.id, chunk.index),
          priority,
          ...CHUNK_RETRY,
          ignoreDependencyOnFailure: true,
          removeOnComplete: true,
          removeOnFail: { age: DAY_SECONDS },
        },
      })),
    });
  }

  private async record(id: string): Promise<JobRecord> {
    const record = await this.store.get(id);
    if (!record) throw new NotFoundError(`batch job ${id} not found`);
    return record;
  }

  async get(request: GetBatchJobRequest): Promise<BatchJob> {
    return jobMessage(await this.record(jobIdOf(request)));
  }

  /** Stops new chunks at once: the job no longer takes chunks, and those not yet taken are removed from the queue. */
  async cancel(request: CancelBatchJobRequest): Promise<BatchJob> {
    const id = jobIdOf(request);
    await this.record(id);
    if ((await this.store.stop(id, 'CANCELLING', 'cancelled by request')) === 'CANCELLING') {
      // With no chunk left in work, this lets the finalize job run (it writes the partial results).
      const parent = await (await this.queues()).finalizeQueue.getJob(id);
      await parent?.removeUnprocessedChildren();
    }
    return jobMessage(await this.record(id));
  }

  async list(request: ListBatchJobsRequest): Promise<ListBatchJobsResponse> {
    const limit = Math.min(request.limit || DEFAULT_LIST, MAX_LIST);
    const now = Date.now();
    return { jobs: (await this.store.list(limit)).map((record) => jobMessage(record, now)) };
  }

  async results(request: BatchResultsRequest): Promise<BatchResultsResponse> {
    const record = await this.record(jobIdOf(request));
    if (!isEnded(record.state)) throw new FailedPreconditionError(`batch job ${record.id} is ${record.state}: its results are written when it ends`);
    if (!record.resultsPath) throw new FailedPreconditionError(`batch job ${record.id} ${record.state} without results: ${record.error}`);
    const limit = Math.min(request.limit || DEFAULT_PAGE, MAX_PAGE);
    const page = await readResultsPage(record.resultsPath, Number(request.offset), limit);
    return { lines: page.lines, partial: record.state !== 'COMPLETED', nextOffset: BigInt(page.nextOffset), end: page.end };
  }

  async close(): Promise<void> {
    const queues = await this.bull;
    await Promise.all([queues?.flows.close(), queues?.finalizeQueue.close()]);
  }
}
