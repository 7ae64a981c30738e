import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { Queue, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { BatchJob_State, BatchJobsClient, type BatchJob, type BatchResultsResponse, type SubmitBatchJobRequest } from '@maas/protos';
import { chunkJobId, chunkQueue, type ChunkJobData } from '@maas/batch-jobs';
import { makeTempDir } from '@maas/test-support';
import { TestCluster } from '../cluster/cluster-harness.js';

type Invoke<Res> = (metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => unknown;

/** A result line as parsed from a results file. */
export interface ResultLine {
  row: number;
  prediction?: unknown;
  error?: string;
}

export const ENDED = [BatchJob_State.COMPLETED, BatchJob_State.FAILED, BatchJob_State.CANCELLED];

/**
 * A real cluster (TestCluster: redis-server, registry, workers, scheduler as child processes)
 * with a BatchJobs client on the scheduler, files on a temporary "shared storage" directory, and
 * a look into the chunk queue for the crash tests.
 */
export class BatchTestCluster extends TestCluster {
  batch!: BatchJobsClient;
  readonly storage = makeTempDir('maas-batch-storage-');
  private redisClient?: Redis;
  private files = 0;

  override async startScheduler(): Promise<void> {
    await super.startScheduler();
    this.batch?.close();
    this.batch = new BatchJobsClient(`127.0.0.1:${this.scheduler.grpcPort}`, credentials.createInsecure());
  }

  rpc<Res>(invoke: Invoke<Res>): Promise<Res> {
    return new Promise((resolve, reject) =>
      invoke(new Metadata(), { deadline: Date.now() + 60_000 }, (error, response) => (error ? reject(error) : resolve(response))),
    );
  }

  submit(request: Partial<SubmitBatchJobRequest>): Promise<BatchJob> {
    const full: SubmitBatchJobRequest = { inputPath: '', instances: [], outputPath: '', rowsPerChunk: 0, priority: 0, ...request };
    return this.rpc((m, o, cb) => this.batch.submit(full, m, o, cb));
  }

  get(id: string): Promise<BatchJob> {
    return this.rpc((m, o, cb) => this.batch.get({ id }, m, o, cb));
  }

  cancel(id: string): Promise<BatchJob> {
    return this.rpc((m, o, cb) => this.batch.cancel({ id }, m, o, cb));
  }

  results(id: string, offset: number, limit: number): Promise<BatchResultsResponse> {
    return this.rpc((m, o, cb) => this.batch.results({ id, offset: BigInt(offset), limit }, m, o, cb));
  }

  /** Polls until the job has ended (or `until` holds); bounded by `timeoutMs`. */
  async waitForJob(id: string, timeoutMs = 60_000, until: (job: BatchJob) => boolean = (job) => ENDED.includes(job.state), pollMs = 100): Promise<BatchJob> {
    const start = Date.now();
    let job = await this.get(id);
    while (!until(job)) {
      if (Date.now() - start > timeoutMs) throw new Error(`job ${id} still ${BatchJob_State[job.state]} after ${timeoutMs} ms: ${JSON.stringify(job, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
      await new Promise((r) => setTimeout(r, pollMs));
      job = await this.get(id);
    }
    return job;
  }

  /** Writes a JSON Lines input file on the shared storage; returns its path. */
  writeInput(lines: readonly string[]): string {
    const path = join(this.storage, `input-${this.files++}.jsonl`);
    writeFileSync(path, lines.join('\n') + '\n');
    return path;
  }

  outputPath(): string {
    return join(this.storage, `output-${this.files++}.jsonl`);
  }

  readResults(path: string): ResultLine[] {
    return readFileSync(path, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as ResultLine);
  }

  async rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`http://127.0.0.1:${this.scheduler.restPort}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  private async withChunkQueue<T>(model: string, use: (queue: Queue<ChunkJobData>) => Promise<T>): Promise<T> {
    this.redisClient ??= new Redis(this.redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue<ChunkJobData>(chunkQueue(model), { connection: this.redisClient, prefix: 'maas:bull' });
    try {
      return await use(queue);
    } finally {
      await queue.close();
    }
  }

  /** Chunks of the model's queue being processed right now, with the worker that took each. */
  activeChunks(model: string): Promise<Array<Job<ChunkJobData>>> {
    return this.withChunkQueue(model, (queue) => queue.getActive());
  }

  /** Chunks waiting in the model's queue, in the order workers will take them. */
  queuedChunks(model: string): Promise<Array<Job<ChunkJobData>>> {
    return this.withChunkQueue(model, (queue) => queue.getPrioritized());
  }

  /** A chunk's BullMQ job, read in one go (undefined once it is gone: chunks are removed when they complete). */
  chunkJob(model: string, jobId: string, chunk: number): Promise<Job<ChunkJobData> | undefined> {
    return this.withChunkQueue(model, (queue) => queue.getJob(chunkJobId(jobId, chunk)));
  }

  override async stop(): Promise<void> {
    this.batch?.close();
    this.redisClient?.disconnect();
    await super.stop();
  }
}

/** Rows `[i, i + 0.5, …]` of `width` numbers; the adder model (y = x + 1) predicts each plus one. */
export function adderRows(count: number, width = 2): string[] {
  return Array.from({ length: count }, (_, i) => JSON.stringify(Array.from({ length: width }, (_, k) => i + k / 2)));
}

/** Checks that lines are exactly rows 0..count-1 in order, each with the adder's prediction (or listed as an error). */
export function adderMismatches(lines: readonly ResultLine[], count: number, errorRows: ReadonlySet<number> = new Set()): string[] {
  const problems: string[] = [];
  if (lines.length !== count) problems.push(`${lines.length} lines for ${count} rows`);
  lines.forEach((line, i) => {
    if (line.row !== i) return problems.push(`line ${i} is row ${line.row}`);
    if (errorRows.has(i)) return void (line.error === undefined && problems.push(`row ${i} should be an error line`));
    const prediction = line.prediction as number[] | undefined;
    if (!Array.isArray(prediction) || prediction.some((v, k) => v !== i + k / 2 + 1)) problems.push(`row ${i}: ${JSON.stringify(line)}`);
  });
  return problems.slice(0, 10);
}
