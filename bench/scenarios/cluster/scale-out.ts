import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { LoadShape } from '../../load/protocol.js';
import { runJsonChild, spawnTs } from '../../processes.js';
import type { Ratio, Row, Target } from '../../report.js';
import { ratio, spread } from '../../stats.js';
import { workload, type WorkloadRef } from '../../workloads.js';
import type { BenchContext } from '../context.js';
import { loadLabel, measureGroup, type ServedSpec } from '../served.js';
import type { CeilingJob, CeilingResult } from './compute-ceiling.js';
import type { LocalCluster } from './local-cluster.js';
import { cpuSince, describePerRequest, threadCpuMs, totalMs } from '../../process-cpu.js';

const MIN_SCALE_RATIO = 1.6;
/** The compute-bound model the target is judged on: ~13 ms of one core per 256-byte request. */
export const SCALE_OUT_MODEL: WorkloadRef = { kind: 'dense' };
/**
 * Every model of the scale-out rows, with their closed-loop loads (quick, full). The classifier's
 * ~1–2 ms of compute per request is close to the ~1 ms the load generator and the scheduler spend
 * on it, on the same cores, so it shows how far transport CPU caps scale-out on this host.
 */
export const SCALE_OUT_MODELS: Array<{ ref: WorkloadRef; loads: { quick: number[]; full: number[] } }> = [
  { ref: SCALE_OUT_MODEL, loads: { quick: [8], full: [8, 32] } },
  { ref: { kind: 'classifier' }, loads: { quick: [32], full: [8, 32] } },
];

export interface ScaleOutClusters {
  /** One worker with every core (intra-op threads = cores). */
  oneWide: LocalCluster;
  /** One worker with cores / 2 threads: the shape each of `two`'s workers has. */
  oneNarrow: LocalCluster;
  /** Two workers with cores / 2 threads each, the model on both. */
  two: LocalCluster;
}

export interface ScaleOutResult {
  ratios: Ratio[];
  targets: Target[];
  notes: string[];
}

/** onnxruntime alone in a child: one session on 1 and on all threads, and two one-thread sessions run at once. */
async function computeCeiling(ctx: BenchContext, ref: WorkloadRef, narrowThreads: number): Promise<Map<string, Row>> {
  const w = workload(ref);
  const cores = availableParallelism();
  const t = ctx.settings.compute;
  const job: CeilingJob = {
    workload: ref,
    modelFile: ctx.repo.files[w.model]!,
    shapes: [
      { sessions: 1, threads: narrowThreads },
      { sessions: 1, threads: cores },
      { sessions: 2, threads: narrowThreads },
    ],
    warmupSeconds: t.warmupSeconds,
    rounds: t.rounds,
    roundSeconds: t.roundSeconds,
  };
  ctx.progress(`compute ceiling: ${w.label}, ${job.shapes.map((s) => `${s.sessions}×${s.threads}`).join(', ')} (sessions × threads)`);
  const rows = new Map<string, Row>();
  const budgetMs = job.shapes.length * (t.warmupSeconds + t.rounds * t.roundSeconds) * 3000 + 60_000;
  try {
    const result = await runJsonChild<CeilingResult>(spawnTs('bench/scenarios/cluster/compute-ceiling.ts', [JSON.stringify(job)], 'compute ceiling'), budgetMs);
    for (const p of result.points) {
      const label = `${p.sessions} session${p.sessions > 1 ? 's' : ''} × ${p.threads} thread${p.threads > 1 ? 's' : ''}`;
      const row: Row = { section: 'scale-out', workload: w.label, path: 'compute limit', transport: 'in-process', load: label, status: 'ok', itemsPerSec: spread(p.itemsPerSec), requestsPerSec: spread(p.itemsPerSec) };
      rows.set(`${p.sessions}x${p.threads}`, row);
      ctx.rows.push(row);
    }
  } catch (error) {
    ctx.rows.push({ section: 'scale-out', workload: w.label, path: 'compute limit', transport: 'in-process', load: 'ceiling', status: 'error', note: String(error).split('\n')[0] });
  }
  return rows;
}

/** Busy CPU ms of the whole machine so far (every process, ours or not), from /proc/stat. */
function machineBusyMs(): number | undefined {
  try {
    const [user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / 100;
  } catch {
    return undefined;
  }
}

/** Requests a worker has answered so far, all models (maas_requests_total on its /metrics); undefined when it has no metrics port. */
async function workerRequests(metricsPort: number | undefined): Promise<number | undefined> {
  if (metricsPort === undefined) return undefined;
  try {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) if (line.startsWith('maas_requests_total')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    return sum;
  } catch {
    return undefined;
  }
}

/**
 * One more round on a cluster with every process's CPU read around it: where a request's CPU goes
 * (load generator, scheduler, each worker by thread) and how many of the cores were busy.
 */
async function cpuBreakdown(ctx: BenchContext, label: string, cluster: LocalCluster, ref: WorkloadRef, load: LoadShape): Promise<string> {
  const t = ctx.settings.served;
  const generatorPid = ctx.generator.start();
  const pids: Array<[string, number]> = [['generator', generatorPid], ['scheduler', cluster.schedulerPid], ...cluster.workers.map((w, i): [string, number] => [`worker ${i + 1}`, w.pid])];
  const servedBefore = await Promise.all(cluster.workers.map((w) => workerRequests(w.metricsPort)));
  const before = pids.map(([, pid]) => threadCpuMs(pid));
  const machineBefore = machineBusyMs();
  const started = performance.now();
  const result = await ctx.generator.run(
    { id: `cpu-${label}`, target: { kind: 'grpc', address: cluster.schedulerAddress }, workload: ref, batch: 1, load, warmupSeconds: 0, rounds: 1, roundSeconds: t.roundSeconds, maxRequestsPerRound: ctx.settings.maxRequestsPerRound, timeoutMs: ctx.settings.timeoutMs },
    t.roundSeconds * 1000 + 3 * ctx.settings.timeoutMs,
  );
  const wallMs = performance.now() - started;
  const machineMs = machineBusyMs();
  const used = pids.map(([, pid], i) => cpuSince(before[i]!, threadCpuMs(pid)));
  const servedAfter = await Promise.all(cluster.workers.map((w) => workerRequests(w.metricsPort)));
  const served = servedAfter.map((n, i) => (n === undefined || servedBefore[i] === undefined ? '?' : String(n - servedBefore[i]!)));
  const requests = result.unmeasuredRequests + result.rounds.reduce((n, r) => n + r.requests + r.errors, 0);
  if (result.status !== 'ok' || requests === 0) return `scale-out CPU ${label}: not measured (${result.note ?? result.status})`;
  const ours = used.reduce((s, cpu) => s + totalMs(cpu), 0);
  const others = machineMs === undefined || machineBefore === undefined ? undefined : machineMs - machineBefore - ours;
  const cores = (ms: number) => (ms / wallMs).toFixed(2);
  return (
    `scale-out CPU ${label} ${loadLabel(load)}: ${((requests * 1000) / wallMs).toFixed(0)} req/s, cores busy ${cores(ours)} ours` +
    `${others === undefined ? '' : ` + ${cores(Math.max(0, others))} other processes`} of ${availableParallelism()}` +
    `${cluster.workers.length > 1 ? `; requests per worker ${served.join(' / ')}` : ''}; CPU ms/req: ` +
    pids.map(([name], i) => `${name} ${describePerRequest(used[i]!, requests)}`).join('; ')
  );
}

/**
 * Scale-out of one model: the same closed-loop load through the scheduler to one worker and to
 * two, rounds alternating, then one round per cluster with its CPU broken down. The in-process
 * ceiling says what the cores allow at all.
 */
async function scaleOutOf(ctx: BenchContext, clusters: ScaleOutClusters, ref: WorkloadRef, loads: number[]) {
  const narrowThreads = clusters.two.spec.intraOpThreads;
  const wide = clusters.oneWide.spec.intraOpThreads;
  const label = workload(ref).label;
  const ceiling = await computeCeiling(ctx, ref, narrowThreads);
  const ratios: Ratio[] = [];
  const notes: string[] = [];
  let scaled: { name: string; value?: number } | undefined;
  for (const concurrency of loads) {
    const load: LoadShape = { mode: 'closed', concurrency };
    const spec = (path: Row['path'], cluster: LocalCluster): ServedSpec => ({
      section: 'scale-out',
      ref,
      batch: 1,
      path,
      load,
      target: { kind: 'grpc', address: cluster.schedulerAddress },
      serverPid: cluster.schedulerPid,
    });
    const rows = await measureGroup(
      ctx,
      [
        spec(`scheduler→1 worker×${wide}t`, clusters.oneWide),
        spec(`scheduler→1 worker×${narrowThreads}t`, clusters.oneNarrow),
        spec(`scheduler→2 workers×${narrowThreads}t`, clusters.two),
      ],
      { timing: ctx.settings.served },
    );
    ctx.rows.push(...rows);
    const [oneWide, oneNarrow, two] = rows.map((r) => (r.status === 'ok' ? r.itemsPerSec?.median : undefined));
    const vsNarrow = ratio(two, oneNarrow);
    ratios.push(
      { name: `scale-out ${label} c=${concurrency}: 2 workers×${narrowThreads}t / 1 worker×${narrowThreads}t`, value: vsNarrow },
      { name: `scale-out ${label} c=${concurrency}: 2 workers×${narrowThreads}t / 1 worker×${wide}t (same cores)`, value: ratio(two, oneWide) },
    );
    if (concurrency === loads[loads.length - 1]) scaled = { name: `c=${concurrency}`, value: vsNarrow };
    for (const [name, cluster] of [[`1 worker×${narrowThreads}t`, clusters.oneNarrow], [`2 workers×${narrowThreads}t`, clusters.two]] as const) {
      notes.push(await cpuBreakdown(ctx, `${label}, ${name}`, cluster, ref, load));
    }
  }
  // The most two sessions can gain over one on these cores, with nothing else of ours running.
  const best = (key: string) => ceiling.get(key)?.itemsPerSec?.max;
  const ceilingRatio = ratio(best(`2x${narrowThreads}`), best(`1x${narrowThreads}`));
  ratios.push(
    { name: `scale-out ${label} ceiling (in-process, best rounds): 2 sessions×${narrowThreads}t / 1 session×${narrowThreads}t`, value: ceilingRatio },
    { name: `scale-out ${label} ceiling (in-process, best rounds): 2 sessions×${narrowThreads}t / 1 session×${availableParallelism()}t`, value: ratio(best(`2x${narrowThreads}`), best(`1x${availableParallelism()}`)) },
  );
  return { ratios, notes, scaled, ceilingRatio };
}

/**
 * Scale-out on a compute-bound model, and on the classifier beside it. Each worker gets cores /
 * workers intra-op threads so two are not oversubscribed; the one-worker baseline is measured with
 * that shape and with all cores. The target is judged on SCALE_OUT_MODEL.
 */
export async function scaleOutScenario(ctx: BenchContext, clusters: ScaleOutClusters): Promise<ScaleOutResult> {
  const ratios: Ratio[] = [];
  const notes: string[] = [];
  let judged: Awaited<ReturnType<typeof scaleOutOf>> | undefined;
  for (const model of SCALE_OUT_MODELS) {
    const result = await scaleOutOf(ctx, clusters, model.ref, model.loads[ctx.settings.mode]);
    ratios.push(...result.ratios);
    notes.push(...result.notes);
    if (model.ref === SCALE_OUT_MODEL) judged = result;
  }
  const x = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
  const narrowThreads = clusters.two.spec.intraOpThreads;
  return {
    ratios,
    targets: [
      {
        name: `scale-out: ${workload(SCALE_OUT_MODEL).label} through the scheduler, 2 workers / 1 worker of the same shape (${judged?.scaled?.name ?? ''})`,
        goal: `≥ ${MIN_SCALE_RATIO}× (as far as ${availableParallelism()} cores allow: in-process ceiling ${x(judged?.ceilingRatio)})`,
        measured: x(judged?.scaled?.value),
        met: judged?.scaled?.value === undefined ? undefined : judged.scaled.value >= MIN_SCALE_RATIO,
      },
    ],
    notes: [
      ...notes,
      `scale-out: each worker of the 2-worker cluster runs ${narrowThreads} intra-op thread(s) (cores / workers); the load generator and the scheduler share the same ${availableParallelism()} cores`,
    ],
  };
}
