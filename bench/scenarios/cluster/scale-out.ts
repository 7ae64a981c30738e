import { availableParallelism } from 'node:os';
import type { LoadShape } from '../../load/protocol.js';
import { runJsonChild, spawnTs } from '../../processes.js';
import type { Ratio, Row, Target } from '../../report.js';
import { ratio, spread } from '../../stats.js';
import { workload, type WorkloadRef } from '../../workloads.js';
import type { BenchContext } from '../context.js';
import { measureGroup, type ServedSpec } from '../served.js';
import type { CeilingJob, CeilingResult } from './compute-ceiling.js';
import type { LocalCluster } from './local-cluster.js';

const MIN_SCALE_RATIO = 1.6;
/** The compute-bound model of the scale-out rows. */
export const SCALE_OUT_MODEL: WorkloadRef = { kind: 'classifier' };

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
async function computeCeiling(ctx: BenchContext, narrowThreads: number): Promise<Map<string, Row>> {
  const w = workload(SCALE_OUT_MODEL);
  const cores = availableParallelism();
  const t = ctx.settings.compute;
  const job: CeilingJob = {
    workload: SCALE_OUT_MODEL,
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

/**
 * Scale-out on a compute-bound model: the same closed-loop load through the scheduler to one
 * worker and to two, rounds alternating. Each worker gets cores / workers intra-op threads so two
 * are not oversubscribed; the one-worker baseline is measured with that shape and with all cores.
 * The in-process ceiling says what the cores allow at all.
 */
export async function scaleOutScenario(ctx: BenchContext, clusters: ScaleOutClusters): Promise<ScaleOutResult> {
  const narrowThreads = clusters.two.spec.intraOpThreads;
  const ceiling = await computeCeiling(ctx, narrowThreads);
  const loads = ctx.settings.mode === 'quick' ? [32] : [8, 32];
  const ratios: Ratio[] = [];
  let scaled: { name: string; value?: number } | undefined;
  for (const concurrency of loads) {
    const load: LoadShape = { mode: 'closed', concurrency };
    const spec = (path: Row['path'], cluster: LocalCluster): ServedSpec => ({
      section: 'scale-out',
      ref: SCALE_OUT_MODEL,
      batch: 1,
      path,
      load,
      target: { kind: 'grpc', address: cluster.schedulerAddress },
      serverPid: cluster.schedulerPid,
    });
    const wide = clusters.oneWide.spec.intraOpThreads;
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
      { name: `scale-out c=${concurrency}: 2 workers×${narrowThreads}t / 1 worker×${narrowThreads}t`, value: vsNarrow },
      { name: `scale-out c=${concurrency}: 2 workers×${narrowThreads}t / 1 worker×${wide}t (same cores)`, value: ratio(two, oneWide) },
    );
    if (concurrency === loads[loads.length - 1]) scaled = { name: `c=${concurrency}`, value: vsNarrow };
  }
  // The most two sessions can gain over one on these cores, with nothing else running.
  const best = (key: string) => ceiling.get(key)?.itemsPerSec?.max;
  const ceilingRatio = ratio(best(`2x${narrowThreads}`), best(`1x${narrowThreads}`));
  const wideRatio = ratio(best(`2x${narrowThreads}`), best(`1x${availableParallelism()}`));
  ratios.push(
    { name: `scale-out ceiling (in-process, best rounds): 2 sessions×${narrowThreads}t / 1 session×${narrowThreads}t`, value: ceilingRatio },
    { name: `scale-out ceiling (in-process, best rounds): 2 sessions×${narrowThreads}t / 1 session×${availableParallelism()}t`, value: wideRatio },
  );
  const x = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(2)}×`);
  return {
    ratios,
    targets: [
      {
        name: `scale-out: ${workload(SCALE_OUT_MODEL).label} through the scheduler, 2 workers / 1 worker of the same shape (${scaled?.name ?? ''})`,
        goal: `≥ ${MIN_SCALE_RATIO}× (as far as ${availableParallelism()} cores allow: in-process ceiling ${x(ceilingRatio)})`,
        measured: x(scaled?.value),
        met: scaled?.value === undefined ? undefined : scaled.value >= MIN_SCALE_RATIO,
      },
    ],
    notes: [
      `scale-out: each worker of the 2-worker cluster runs ${narrowThreads} intra-op thread(s) (cores / workers); the load generator and the scheduler share the same ${availableParallelism()} cores`,
    ],
  };
}
