import type { Processor, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { bullConnection, chunkQueue, FINALIZE_QUEUE, JobStore, type ChunkJobData, type FinalizeJobData } from '@maas/batch-jobs';
import type { ModelHost } from '../model-host.js';
import { processChunk, type ChunkContext } from './chunk-processor.js';
import { finalizeJob } from './finalize.js';
import { OnlineGate, type OnlineGateOptions } from './online-gate.js';
import { RowRunner } from './row-runner.js';

export interface BatchConsumerOptions {
  /** This worker's id: BullMQ records it on each job it takes (Job.processedBy). */
  workerId: string;
  host: ModelHost;
  /** The cluster's Redis client; BullMQ opens its own connections to the same server. */
  redis: Redis;
  /** The cluster's key prefix (--redis_prefix). */
  prefix: string;
  /**
   * Lock on a chunk in work, renewed at half this period. A worker that dies holds its chunk at
   * most this long (plus a stalled check, every half period) before another worker takes it.
   */
  lockMs: number;
  /** How often the chunk queues are matched to the models this worker holds. */
  followMs: number;
  /** Online traffic first (see OnlineGate). */
  online: OnlineGateOptions;
  /** Time budget of one run of batch rows (what an online request may wait behind it). */
  sliceMs: number;
  log: (message: string) => void;
}

export const DEFAULT_BATCH_SLICE_MS = 4;
/** Batch slices run only with no online request in flight, and take at most a fifth of the time while online traffic is about. */
export const DEFAULT_BATCH_ONLINE: OnlineGateOptions = { threshold: 0, yieldFactor: 4 };
const MAX_SLICE_ROWS = 256;

type BullMq = typeof import('bullmq');

interface Started {
  bull: BullMq;
  finalizeQueue: Queue<FinalizeJobData>;
  finalizeWorker: Worker<FinalizeJobData>;
}

/**
 * The worker's side of batch jobs: one BullMQ consumer per model this worker has available (so
 * it only takes chunks it can run), one chunk at a time each, plus a consumer of finalize jobs.
 * Follows the host's models as placement changes them.
 */
export class BatchConsumer {
  private readonly store: JobStore;
  private readonly runner: RowRunner;
  private readonly chunkWorkers = new Map<string, Worker<ChunkJobData>>();
  private readonly abort = new AbortController();
  private timer?: NodeJS.Timeout;
  /** BullMQ, the finalize queue and its consumer, once start() has loaded them. */
  private started?: Promise<Started>;
  private stopping = false;

  constructor(private readonly options: BatchConsumerOptions) {
    this.store = new JobStore(options.redis, options.prefix);
    this.runner = new RowRunner(options.host, new OnlineGate(options.host, options.online), { sliceMs: options.sliceMs, maxSliceRows: MAX_SLICE_ROWS });
  }

  /** Starts consuming. BullMQ loads off the start-up path: the worker serves online requests meanwhile. */
  start(): void {
    this.started = import('bullmq').then((bull) => {
      const connection = { connection: bullConnection(this.options.redis), prefix: this.store.keys.bullPrefix };
      const finalizeQueue = new bull.Queue<FinalizeJobData>(FINALIZE_QUEUE, connection);
      finalizeQueue.on('error', (error) => this.options.log(`batch finalize queue: ${error.message}`));
      const started: Started = { bull, finalizeQueue, finalizeWorker: this.consume<FinalizeJobData>(bull, FINALIZE_QUEUE, (job) => finalizeJob(job, this.store)) };
      if (!this.stopping) {
        this.follow(started);
        this.timer = setInterval(() => this.follow(started), this.options.followMs);
      }
      return started;
    });
    this.started.catch((error: Error) => this.options.log(`batch consumers did not start: ${error.message}`));
  }

  private consume<T>(bull: BullMq, queue: string, processor: Processor<T, string>): Worker<T> {
    const worker = new bull.Worker<T, string>(queue, processor, {
      name: this.options.workerId,
      connection: bullConnection(this.options.redis),
      prefix: this.store.keys.bullPrefix,
      concurrency: 1,
      lockDuration: this.options.lockMs,
      stalledInterval: Math.max(500, Math.floor(this.options.lockMs / 2)),
      // One stall is a crash we recover from; a chunk that stalls repeatedly may be what crashes workers.
      maxStalledCount: 2,
    });
    worker.on('error', (error) => this.options.log(`batch ${queue}: ${error.message}`));
    worker.on('failed', (job, error) => this.options.log(`batch ${queue} job ${job?.id ?? '?'} attempt failed: ${error.message}`));
    return worker;
  }

  /** A consumer for each model with an available version here; none for the others. */
  private follow(started: Started): void {
    const ready = new Set(this.options.host.servedModels().filter((m) => m.availableVersions().length > 0).map((m) => m.name));
    const context: ChunkContext = {
      store: this.store,
      runner: this.runner,
      stopRemaining: async (jobId) => (await started.finalizeQueue.getJob(jobId))?.removeUnprocessedChildren(),
      signal: this.abort.signal,
    };
    for (const model of ready) {
      if (!this.chunkWorkers.has(model)) this.chunkWorkers.set(model, this.consume<ChunkJobData>(started.bull, chunkQueue(model), (job) => processChunk(job, context)));
    }
    for (const [model, worker] of this.chunkWorkers) {
      if (ready.has(model)) continue;
      this.chunkWorkers.delete(model);
      worker.close().catch((error: Error) => this.options.log(`closing batch consumer of ${model}: ${error.message}`));
    }
  }

  /** Lets the chunks in work finish (online traffic has stopped by now), then closes the consumers. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    const started = await this.started?.catch(() => undefined);
    if (!started) return;
    const workers = [...this.chunkWorkers.values(), started.finalizeWorker];
    this.chunkWorkers.clear();
    const closing = Promise.all(workers.map((w) => w.close()));
    // A chunk held back by the online gate must not hold up the stop: it fails its attempt and is retried elsewhere.
    const abortLater = setTimeout(() => this.abort.abort(), this.options.lockMs);
    await closing.finally(() => clearTimeout(abortLater));
    await started.finalizeQueue.close();
  }
}
