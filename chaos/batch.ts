import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { BatchJob, BatchJob_State, GetBatchJobRequest, SubmitBatchJobRequest } from '@maas/protos';
import { MODEL } from './cluster.js';

const identity = (bytes: Buffer) => bytes;

/** What a batch job's results file says about its rows: each must have exactly one line, and the right answer. */
export interface BatchCheck {
  id: string;
  state: string;
  rows: number;
  /** Rows with exactly one line whose prediction is x + 1. */
  correct: number;
  missing: number;
  duplicated: number;
  errorLines: number;
  wrong: number;
}

/**
 * Batch jobs run through the chaos: row i is `[i]`, whose prediction must be i + 1. Calls go to
 * the scheduler and are retried while it restarts.
 */
export class BatchJobs {
  private readonly client: grpc.Client;
  private readonly jobs: Array<{ id: string; rows: number; output: string }> = [];

  constructor(
    address: string,
    private readonly dir: string,
  ) {
    this.client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500 });
  }

  private async call(method: string, bytes: Uint8Array, timeoutMs = 30_000): Promise<BatchJob> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const result = await new Promise<{ job: BatchJob } | { error: grpc.ServiceError }>((resolve) =>
        this.client.makeUnaryRequest(`/maas.batch.v1.BatchJobs/${method}`, identity, identity, Buffer.from(bytes), new grpc.Metadata(), { deadline: Date.now() + 5000 }, (error, response) =>
          resolve(error ? { error } : { job: BatchJob.decode(response!) }),
        ),
      );
      if ('job' in result) return result.job;
      const retryable = result.error.code === grpc.status.UNAVAILABLE || result.error.code === grpc.status.DEADLINE_EXCEEDED;
      if (!retryable || Date.now() > end) throw result.error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async submit(rows: number, rowsPerChunk: number): Promise<string> {
    const n = this.jobs.length;
    const input = join(this.dir, `batch-${n}.jsonl`);
    const output = join(this.dir, `batch-${n}.out.jsonl`);
    writeFileSync(input, Array.from({ length: rows }, (_, i) => `[${i}]`).join('\n'));
    const job = await this.call('Submit', SubmitBatchJobRequest.encode(SubmitBatchJobRequest.fromPartial({ modelSpec: { name: MODEL }, inputPath: input, outputPath: output, rowsPerChunk })).finish());
    this.jobs.push({ id: job.id, rows, output });
    return job.id;
  }

  async state(id: string): Promise<BatchJob> {
    return this.call('Get', GetBatchJobRequest.encode({ id }).finish());
  }

  /** Waits for every job to end, then reads each results file. */
  async checkAll(timeoutMs: number): Promise<BatchCheck[]> {
    const end = Date.now() + timeoutMs;
    const checks: BatchCheck[] = [];
    for (const { id, rows, output } of this.jobs) {
      let job = await this.state(id);
      while (job.state < BatchJob_State.COMPLETED && Date.now() < end) {
        await new Promise((r) => setTimeout(r, 250));
        job = await this.state(id);
      }
      checks.push(check(id, BatchJob_State[job.state] ?? String(job.state), rows, existsSync(output) ? readFileSync(output, 'utf8') : ''));
    }
    return checks;
  }

  close(): void {
    this.client.close();
  }
}

function check(id: string, state: string, rows: number, text: string): BatchCheck {
  const seen = new Array<number>(rows).fill(0);
  let errorLines = 0;
  let wrong = 0;
  let correct = 0;
  for (const line of text.split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as { row: number; prediction?: number[] | number; error?: string };
    seen[entry.row] = (seen[entry.row] ?? 0) + 1;
    if (entry.error !== undefined) errorLines++;
    else if ([entry.prediction].flat(2)[0] === entry.row + 1) correct++;
    else wrong++;
  }
  return { id, state, rows, correct, missing: seen.filter((n) => n === 0).length, duplicated: seen.filter((n) => n > 1).length, errorLines, wrong };
}
