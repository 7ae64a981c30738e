// The load generator, run as its own process so its CPU use is not the server's and its event
// loop does not skew the orchestrator. Usage:
//   node --import tsx bench/load-generator.ts '<LoadJob JSON>'   one job, one JSON line on stdout
//   node --import tsx bench/load-generator.ts                    JSON-line jobs on stdin, one result line each
// Connections (and the encoded request) are kept between jobs for the same workload, so the
// orchestrator can alternate rounds between servers without paying for new connections.
import { createInterface } from 'node:readline';
import { buildPayload, type Payload } from './payloads.js';
import { workload as workloadOf, type Workload } from './workloads.js';
import { closedLoopRound, openLoopRound, type RoundLimits } from './load/loops.js';
import type { LoadJob, LoadResult, RoundResult } from './load/protocol.js';
import { createSender, TargetUnavailable, type Sender } from './load/targets.js';

interface Prepared {
  workload: Workload;
  payload: Payload;
  senders: Map<string, Sender>;
}

/** The current workload's payload and its probed senders, one per target. */
let current: { key: string; prepared: Prepared } | undefined;

function closeCurrent(): void {
  for (const sender of current?.prepared.senders.values() ?? []) sender.close();
  current = undefined;
}

/** Returns a probed sender for the job (and whether this job probed it); throws if the probe fails. */
async function senderFor(job: LoadJob): Promise<{ sender: Sender; prepared: Prepared; probed: boolean }> {
  const key = JSON.stringify([job.workload, job.batch]);
  // Only one workload is kept: its payload may be megabytes.
  if (current?.key !== key) {
    closeCurrent();
    const workload = workloadOf(job.workload);
    current = { key, prepared: { workload, payload: buildPayload(workload, job.batch), senders: new Map() } };
  }
  const { prepared } = current;
  const targetKey = JSON.stringify([job.target, job.timeoutMs]);
  const cached = prepared.senders.get(targetKey);
  if (cached) return { sender: cached, prepared, probed: false };
  const sender = createSender(job.target, prepared.workload, prepared.payload, job.timeoutMs);
  try {
    await sender.probe();
  } catch (error) {
    sender.close();
    throw error;
  }
  prepared.senders.set(targetKey, sender);
  return { sender, prepared, probed: true };
}

function round(sender: Sender, job: LoadJob, limits: RoundLimits): Promise<RoundResult> {
  return job.load.mode === 'closed' ? closedLoopRound(sender, job.load.concurrency, limits) : openLoopRound(sender, job.load, limits);
}

async function runJob(job: LoadJob): Promise<LoadResult> {
  const base: LoadResult = { id: job.id, status: 'ok', requestBytes: 0, responseBytes: 0, items: 0, unmeasuredRequests: 0, rounds: [] };
  let ready: Awaited<ReturnType<typeof senderFor>>;
  try {
    ready = await senderFor(job);
  } catch (error) {
    const note = error instanceof Error ? error.message : String(error);
    return { ...base, status: error instanceof TargetUnavailable ? 'unavailable' : 'error', note };
  }
  const { sender, prepared, probed } = ready;
  const isRest = job.target.kind === 'rest';
  base.requestBytes = isRest ? prepared.payload.restBody.length : prepared.payload.grpcRequest.length;
  base.responseBytes = isRest ? 0 : prepared.payload.grpcResponseBytes;
  base.items = prepared.payload.items;
  base.unmeasuredRequests = probed ? 1 : 0;
  const limits = { seconds: job.roundSeconds, maxRequests: job.maxRequestsPerRound, items: prepared.payload.items };
  if (job.warmupSeconds > 0) {
    const warmup = await round(sender, job, { ...limits, seconds: job.warmupSeconds });
    base.unmeasuredRequests += warmup.requests + warmup.errors;
  }
  for (let i = 0; i < job.rounds; i++) base.rounds.push(await round(sender, job, limits));
  const failed = base.rounds.find((r) => r.errors > 0);
  return { ...base, ...(failed?.firstError ? { note: `errors, e.g. ${failed.firstError}` } : {}) };
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
  } else {
    // One job at a time, in order: concurrent jobs would measure each other.
    for await (const line of createInterface({ input: process.stdin })) {
      if (line.trim()) process.stdout.write(`${await answer(line)}\n`);
    }
  }
  closeCurrent();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
