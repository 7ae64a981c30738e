// The load generator, run as its own process so its CPU use is not the server's and its event
// loop does not skew the orchestrator. Usage:
//   node --import tsx bench/load-generator.ts '<LoadJob JSON>'   one job, one JSON line on stdout
//   node --import tsx bench/load-generator.ts                    JSON-line jobs on stdin, one result line each
import { createInterface } from 'node:readline';
import { buildPayload } from './payloads.js';
import { workload as workloadOf } from './workloads.js';
import { closedLoopRound, openLoopRound, type RoundLimits } from './load/loops.js';
import type { LoadJob, LoadResult, RoundResult } from './load/protocol.js';
import { createSender, TargetUnavailable, type Sender } from './load/targets.js';

function round(sender: Sender, job: LoadJob, limits: RoundLimits): Promise<RoundResult> {
  return job.load.mode === 'closed' ? closedLoopRound(sender, job.load.concurrency, limits) : openLoopRound(sender, job.load, limits);
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const workload = workloadOf(job.workload);
  const payload = buildPayload(workload, job.batch);
  const isRest = job.target.kind === 'rest';
  const base = {
    id: job.id,
    requestBytes: isRest ? payload.restBody.length : payload.grpcRequest.length,
    responseBytes: isRest ? 0 : payload.grpcResponseBytes,
    items: payload.items,
    unmeasuredRequests: 1,
    rounds: [] as RoundResult[],
  };
  const sender = createSender(job.target, workload, payload, job.timeoutMs);
  try {
    try {
      await sender.probe();
    } catch (error) {
      const note = error instanceof Error ? error.message : String(error);
      return { ...base, status: error instanceof TargetUnavailable ? 'unavailable' : 'error', note };
    }
    const limits = { seconds: job.roundSeconds, maxRequests: job.maxRequestsPerRound, items: payload.items };
    if (job.warmupSeconds > 0) {
      const warmup = await round(sender, job, { ...limits, seconds: job.warmupSeconds });
      base.unmeasuredRequests += warmup.requests + warmup.errors;
    }
    for (let i = 0; i < job.rounds; i++) base.rounds.push(await round(sender, job, limits));
    const failed = base.rounds.find((r) => r.errors > 0);
    return { ...base, status: 'ok', ...(failed?.firstError ? { note: `errors, e.g. ${failed.firstError}` } : {}) };
  } finally {
    sender.close();
  }
}

/** Any failure becomes an 'error' result, so one bad job does not end a stream of them. */
async function answer(line: string): Promise<string> {
  let job: LoadJob | undefined;
  try {
    job = JSON.parse(line) as LoadJob;
    return JSON.stringify(await runJob(job));
  } catch (error) {
    const failed: LoadResult = { id: job?.id ?? '?', status: 'error', note: String(error), requestBytes: 0, responseBytes: 0, items: 0, unmeasuredRequests: 0, rounds: [] };
    return JSON.stringify(failed);
  }
}

async function main(): Promise<void> {
  const arg = process.argv[2];
  if (arg) {
    process.stdout.write(`${await answer(arg)}\n`);
    return;
  }
  // One job at a time, in order: concurrent jobs would measure each other.
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim()) process.stdout.write(`${await answer(line)}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
