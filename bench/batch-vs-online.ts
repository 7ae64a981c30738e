// Batch jobs next to online traffic, on a real `maas up --workers 2` cluster serving the MLP:
//   node --import tsx bench/batch-vs-online.ts [--rows N] [--rounds N] [--round_seconds S] [--rate_fraction F] [--no_kill]
// 1. online capacity: closed-loop Predict (one row per request) through the scheduler;
// 2. a batch job of N rows (default 100,000) alone, through `maas batch submit` (its progress on stderr);
// 3. online latency at a fixed open-loop rate (F x capacity) in pairs of rounds, one without and
//    one with a batch job running (pairs cancel this shared host's drift; the report gives each
//    pair's p99 ratio and their median); 4. a batch job of N rows with one worker SIGKILLed halfway.
// Prints the numbers and the targets (batch alone >= 0.8 x online capacity; online p99 with batch
// <= 1.5 x without); writes bench/results/<time>-batch-vs-online.json.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { credentials, Metadata, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { Redis } from 'ioredis';
import { BatchJob_State, BatchJobsClient, RegistryAdminClient, type BatchJob, type SubmitBatchJobRequest } from '@maas/protos';
import { makeTempDir, writeModelVersion } from '@maas/test-support';
import { LoadGeneratorClient } from './load/generator-client.js';
import type { LoadJob, RoundResult } from './load/protocol.js';
import { buildMlpModel } from './mlp-model.js';
import { installCleanup, REPO_ROOT, spawnNode, stopChild, waitReady } from './processes.js';
import { median } from './stats.js';
import { MLP_LAYERS, MLP_MODEL } from './workloads.js';

const { values: args } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    rounds: { type: 'string', default: '5' },
    round_seconds: { type: 'string', default: '8' },
    rate_fraction: { type: 'string', default: '0.5' },
    concurrency: { type: 'string', default: '32' },
    no_kill: { type: 'boolean', default: false },
  },
});
const ROWS = Number(args.rows);
const ROUNDS = Number(args.rounds);
const ROUND_SECONDS = Number(args.round_seconds);
const RATE_FRACTION = Number(args.rate_fraction);
const CONCURRENCY = Number(args.concurrency);

const began = Date.now();
const progress = (message: string) => console.error(`[batch-bench ${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${message}`);
const storage = makeTempDir('maas-batch-bench-');
// The temporary storage (input, results: hundreds of MB at 100,000 rows) goes whichever way the run ends.
installCleanup(() => rmSync(storage, { recursive: true, force: true }));

type Invoke<Res> = (metadata: Metadata, options: Partial<CallOptions>, callback: (error: ServiceError | null, response: Res) => void) => unknown;
const rpc = <Res>(invoke: Invoke<Res>) =>
  new Promise<Res>((resolve, reject) => invoke(new Metadata(), { deadline: Date.now() + 600_000 }, (e, r) => (e ? reject(e) : resolve(r))));

/** `count` rows of the MLP's input width, pseudo-random with three decimals (so rows differ but parse alike). */
async function writeInput(path: string, count: number): Promise<void> {
  const out = createWriteStream(path);
  let state = 7;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 2000) / 1000 - 1;
  for (let row = 0; row < count; row++) {
    const line = `[${Array.from({ length: MLP_LAYERS[0] }, () => next().toFixed(3)).join(',')}]\n`;
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

/** Streams a results file: exactly one line per row, in order, no errors. */
async function checkResults(path: string, count: number): Promise<string | undefined> {
  let expected = 0;
  for await (const line of createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY })) {
    if (line === '') continue;
    const parsed = JSON.parse(line) as { row: number; prediction?: unknown; error?: string };
    if (parsed.row !== expected) return `line ${expected} is row ${parsed.row}`;
    if (parsed.error !== undefined) return `row ${parsed.row} failed: ${parsed.error}`;
    expected++;
  }
  return expected === count ? undefined : `${expected} lines for ${count} rows`;
}

const jobSeconds = (job: BatchJob) => Number(job.finishedAtMs - job.startedAtMs) / 1000;

async function main(): Promise<void> {
  const modelBase = join(storage, 'models', MLP_MODEL);
  writeModelVersion(modelBase, 1, buildMlpModel());
  const input = join(storage, 'input.jsonl');
  progress(`writing ${ROWS.toLocaleString('en-US')} rows of ${MLP_LAYERS[0]} floats`);
  await writeInput(input, ROWS);
  // The jobs running alongside online rounds: enough rows to outlast a round, small enough that submitting (a scan) is
  // quick; small chunks, since progress (what the rate alongside is measured from) moves a chunk at a time.
  const alongside = join(storage, 'alongside.jsonl');
  await writeInput(alongside, Math.min(ROWS, 30_000));

  // The cluster, exactly as a user starts it; REST off, ports free.
  const up = spawnNode(['bin/maas.js', 'up', '--workers=2', '--port=0', '--rest_api_port=0', `--model_name=${MLP_MODEL}`, `--model_base_path=${modelBase}`], 'maas up');
  const ready = (await waitReady(up, 120_000)) as { grpcPort: number; redis: string; workers: Array<{ id: string; pid: number }> };
  const scheduler = `127.0.0.1:${ready.grpcPort}`;
  const batch = new BatchJobsClient(scheduler, credentials.createInsecure());
  const redis = new Redis(ready.redis);
  const generator = new LoadGeneratorClient();
  const report: Record<string, unknown> = { startedAt: new Date(began).toISOString(), rows: ROWS, model: `mlp ${MLP_LAYERS.join('-')}`, cores: availableParallelism(), loadAtStart: loadavg() };
  try {
    // Both workers hold the model, so online and batch use the same two replicas.
    const registry = (await redis.get('maas:registry'))!;
    const admin = new RegistryAdminClient(registry, credentials.createInsecure());
    await rpc((m, o, cb) => admin.setReplicas({ model: MLP_MODEL, minReplicas: 2, maxReplicas: 2 }, m, o, cb));
    for (let i = 0; i < 300; i++) {
      const cluster = await rpc<{ workers: Array<{ readyModels: string[] }> }>((m, o, cb) => admin.describeCluster({}, m, o, cb));
      if (cluster.workers.filter((w) => w.readyModels.includes(MLP_MODEL)).length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    admin.close();
    progress('cluster up, mlp on both workers');

    const loadJob = (id: string, load: LoadJob['load'], rounds: number, warmupSeconds: number): LoadJob => ({
      id,
      target: { kind: 'grpc', address: scheduler },
      workload: { kind: 'mlp' },
      batch: 1,
      load,
      warmupSeconds,
      rounds,
      roundSeconds: ROUND_SECONDS,
      maxRequestsPerRound: 2_000_000,
      timeoutMs: 10_000,
    });
    const runLoad = async (job: LoadJob): Promise<RoundResult[]> => {
      const result = await generator.run(job, (job.warmupSeconds + job.rounds * job.roundSeconds) * 1000 + 60_000);
      if (result.status !== 'ok') throw new Error(`load ${job.id}: ${result.status} ${result.note ?? ''}`);
      return result.rounds;
    };

    // 1. Online capacity.
    progress(`online capacity: closed loop, ${CONCURRENCY} clients, one row per request`);
    const capacityRounds = await runLoad(loadJob('capacity', { mode: 'closed', concurrency: CONCURRENCY }, ROUNDS, 3));
    const onlineRowsPerSec = median(capacityRounds.map((r) => r.items / r.seconds));
    report.online = { rowsPerSec: onlineRowsPerSec, rounds: capacityRounds.map((r) => ({ rowsPerSec: r.items / r.seconds, p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms, errors: r.errors })) };
    progress(`online capacity ${onlineRowsPerSec.toFixed(0)} rows/s`);

    // 2. Batch alone, through the CLI (progress bar on a terminal, progress lines otherwise).
    const output = join(storage, 'output.jsonl');
    progress(`batch alone: maas batch submit of ${ROWS.toLocaleString('en-US')} rows`);
    const submittedAt = Date.now();
    const cli = spawn(process.execPath, [join(REPO_ROOT, 'bin/maas.js'), 'batch', 'submit', input, '--model', MLP_MODEL, '--out', output, `--scheduler=${scheduler}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let summary = '';
    cli.stdout.setEncoding('utf8').on('data', (chunk: string) => (summary += chunk));
    const [cliCode] = (await once(cli, 'exit')) as [number];
    const wallSeconds = (Date.now() - submittedAt) / 1000;
    if (cliCode !== 0) throw new Error(`maas batch submit exited with ${cliCode}: ${summary}`);
    const jobId = /^job (\S+) /.exec(summary)![1]!;
    const alone = await rpc<BatchJob>((m, o, cb) => batch.get({ id: jobId }, m, o, cb));
    const problem = await checkResults(output, ROWS);
    if (problem) throw new Error(`batch results: ${problem}`);
    const batchRowsPerSec = ROWS / jobSeconds(alone);
    report.batchAlone = { rowsPerSec: batchRowsPerSec, runSeconds: jobSeconds(alone), wallSecondsWithSubmitAndCli: wallSeconds, summary: summary.trim() };
    progress(`batch alone: ${batchRowsPerSec.toFixed(0)} rows/s (${jobSeconds(alone).toFixed(1)} s running, ${wallSeconds.toFixed(1)} s from submit to summary); results checked`);

    // 3. Online latency without and with a batch job, alternating rounds.
    const rate = Math.max(1, Math.round(onlineRowsPerSec * RATE_FRACTION));
    progress(`online latency at ${rate} requests/s (open loop, Poisson), ${ROUNDS} rounds without and ${ROUNDS} with a batch job`);
    const open = { mode: 'open', ratePerSec: rate, arrival: 'poisson', maxOutstanding: 256 } as const;
    const without: RoundResult[] = [];
    const withBatch: Array<RoundResult & { batchRowsPerSec: number }> = [];
    await runLoad(loadJob('latency-warmup', open, 1, 0));
    for (let round = 0; round < ROUNDS; round++) {
      without.push(...(await runLoad(loadJob(`without-${round}`, open, 1, 0))));
      const request: SubmitBatchJobRequest = { modelSpec: { name: MLP_MODEL, signatureName: '' }, inputPath: alongside, instances: [], outputPath: join(storage, `with-${round}.jsonl`), rowsPerChunk: 100, priority: 0 };
      const job = await rpc<BatchJob>((m, o, cb) => batch.submit(request, m, o, cb));
      let before = job;
      for (let i = 0; i < 200 && before.rowsDone === 0n; i++) {
        await new Promise((r) => setTimeout(r, 50));
        before = await rpc<BatchJob>((m, o, cb) => batch.get({ id: job.id }, m, o, cb));
      }
      const [measured] = await runLoad(loadJob(`with-${round}`, open, 1, 0));
      const afterRound = await rpc<BatchJob>((m, o, cb) => batch.get({ id: job.id }, m, o, cb));
      await rpc((m, o, cb) => batch.cancel({ id: job.id }, m, o, cb));
      const done = Number(afterRound.rowsDone - before.rowsDone);
      withBatch.push({ ...measured!, batchRowsPerSec: done / measured!.seconds });
      if (afterRound.state === BatchJob_State.COMPLETED) progress('note: the batch job ended before the round did');
      progress(
        `round ${round + 1}: p99 ${without[round]!.latency.p99Ms.toFixed(2)} ms without, ${measured!.latency.p99Ms.toFixed(2)} ms with batch (${(done / measured!.seconds).toFixed(0)} batch rows/s alongside)`,
      );
      // Let the cancelled job's last chunks drain before the next round without batch.
      for (let i = 0; i < 200; i++) {
        const state = (await rpc<BatchJob>((m, o, cb) => batch.get({ id: job.id }, m, o, cb))).state;
        if (state === BatchJob_State.CANCELLED || state === BatchJob_State.COMPLETED) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const p99Without = median(without.map((r) => r.latency.p99Ms));
    const p99With = median(withBatch.map((r) => r.latency.p99Ms));
    const pairRatios = withBatch.map((r, i) => r.latency.p99Ms / without[i]!.latency.p99Ms);
    const roundView = (r: RoundResult) => ({ p50Ms: r.latency.p50Ms, p99Ms: r.latency.p99Ms, requests: r.requests, errors: r.errors, dropped: r.dropped });
    report.latency = {
      ratePerSec: rate,
      p99WithoutMs: p99Without,
      p99WithMs: p99With,
      p50WithoutMs: median(without.map((r) => r.latency.p50Ms)),
      p50WithMs: median(withBatch.map((r) => r.latency.p50Ms)),
      batchRowsPerSecAlongside: median(withBatch.map((r) => r.batchRowsPerSec)),
      p99RatioPerPair: pairRatios,
      without: without.map(roundView),
      with: withBatch.map((r) => ({ ...roundView(r), batchRowsPerSec: r.batchRowsPerSec })),
    };

    // 4. A worker SIGKILLed halfway through a job: the result must still be complete and duplicate-free.
    if (!args.no_kill) {
      const killOutput = join(storage, 'killed.jsonl');
      const request: SubmitBatchJobRequest = { modelSpec: { name: MLP_MODEL, signatureName: '' }, inputPath: input, instances: [], outputPath: killOutput, rowsPerChunk: 0, priority: 0 };
      const job = await rpc<BatchJob>((m, o, cb) => batch.submit(request, m, o, cb));
      let seen = job;
      while (seen.rowsDone < BigInt(ROWS / 2)) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await rpc<BatchJob>((m, o, cb) => batch.get({ id: job.id }, m, o, cb));
      }
      const victim = ready.workers[0]!;
      process.kill(victim.pid, 'SIGKILL');
      progress(`killed worker ${victim.id} at ${seen.rowsDone}/${ROWS} rows`);
      while (![BatchJob_State.COMPLETED, BatchJob_State.FAILED, BatchJob_State.CANCELLED].includes(seen.state)) {
        await new Promise((r) => setTimeout(r, 250));
        seen = await rpc<BatchJob>((m, o, cb) => batch.get({ id: job.id }, m, o, cb));
      }
      const killProblem = seen.state === BatchJob_State.COMPLETED ? await checkResults(killOutput, ROWS) : `job ${BatchJob_State[seen.state]}: ${seen.error}`;
      report.workerKilled = { state: BatchJob_State[seen.state], seconds: jobSeconds(seen), rowsDone: Number(seen.rowsDone), resultsComplete: killProblem === undefined, problem: killProblem };
      progress(`job with a worker killed: ${BatchJob_State[seen.state]} in ${jobSeconds(seen).toFixed(1)} s, results ${killProblem ?? 'complete, in order, no duplicates'}`);
    }

    const throughputRatio = batchRowsPerSec / onlineRowsPerSec;
    const p99Ratio = median(pairRatios);
    report.targets = {
      batchAloneVsOnline: { ratio: throughputRatio, target: '>= 0.8', met: throughputRatio >= 0.8 },
      onlineP99WithVsWithout: { ratio: p99Ratio, of: 'median over pairs of rounds', target: '<= 1.5', met: p99Ratio <= 1.5 },
    };
    report.loadAtEnd = loadavg();
    const lines = [
      '',
      `model mlp ${MLP_LAYERS.join('-')}, maas up --workers 2, ${report.cores} cores, load average ${(report.loadAtStart as number[])[0]!.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end`,
      `online capacity (closed loop, ${CONCURRENCY} clients, 1 row/request): ${onlineRowsPerSec.toFixed(0)} rows/s`,
      `batch alone (${ROWS.toLocaleString('en-US')} rows):                         ${batchRowsPerSec.toFixed(0)} rows/s   -> ${throughputRatio.toFixed(2)} x online (target >= 0.8)`,
      `online at ${rate} req/s, p99 without batch:                ${p99Without.toFixed(2)} ms (p50 ${(report.latency as { p50WithoutMs: number }).p50WithoutMs.toFixed(2)} ms)`,
      `online at ${rate} req/s, p99 with a batch job:             ${p99With.toFixed(2)} ms (p50 ${(report.latency as { p50WithMs: number }).p50WithMs.toFixed(2)} ms)`,
      `p99 with / without, per pair of rounds: ${pairRatios.map((r) => r.toFixed(2)).join(', ')} -> median ${p99Ratio.toFixed(2)} x (target <= 1.5)`,
      `batch rows/s alongside that online load:                   ${(report.latency as { batchRowsPerSecAlongside: number }).batchRowsPerSecAlongside.toFixed(0)}`,
    ];
    console.log(lines.join('\n'));
    const dir = join(REPO_ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${new Date(began).toISOString().replace(/[:.]/g, '-')}-batch-vs-online.json`);
    writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
    progress(`wrote ${file}`);
  } finally {
    batch.close();
    redis.disconnect();
    await generator.close();
    await stopChild(up, 20_000);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : String(error));
  process.exitCode = 1;
});
