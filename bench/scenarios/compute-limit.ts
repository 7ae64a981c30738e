import type { ComputeJob, ComputeResult } from '../compute-limit.js';
import { runJsonChild, spawnTs } from '../processes.js';
import type { Row } from '../report.js';
import { spread } from '../stats.js';
import { workload, type WorkloadRef } from '../workloads.js';
import type { BenchContext } from './context.js';

/**
 * onnxruntime alone, in its own process (nothing else running), over a sweep of batch sizes; the
 * row shows the best batch size, the note the whole sweep.
 */
export async function computeLimit(ctx: BenchContext, section: string, ref: WorkloadRef, batchSizes: number[]): Promise<Row> {
  const w = workload(ref);
  ctx.progress(`compute limit: ${w.label}, batch sizes ${batchSizes.join(', ')}`);
  const t = ctx.settings.compute;
  const job: ComputeJob = {
    workload: ref,
    modelFile: ctx.repo.files[w.model]!,
    batchSizes,
    warmupSeconds: t.warmupSeconds,
    rounds: t.rounds,
    roundSeconds: t.roundSeconds,
    maxRunsPerRound: ctx.settings.maxRequestsPerRound,
  };
  const base = { section, workload: w.label, path: 'compute limit', transport: 'in-process' } as const;
  const budgetMs = batchSizes.length * (t.warmupSeconds + t.rounds * t.roundSeconds) * 1000 * 3 + 60_000;
  let row: Row;
  try {
    const result = await runJsonChild<ComputeResult>(spawnTs('bench/compute-limit.ts', [JSON.stringify(job)], 'compute limit'), budgetMs);
    const best = result.points.find((p) => p.batch === result.best.batch)!;
    const sweep = result.points.map((p) => `${p.batch}:${spread(p.itemsPerSec).max.toFixed(0)}`).join(' ');
    row = {
      ...base,
      load: `batch ${best.batch} (best)`,
      status: 'ok',
      itemsPerSec: spread(best.itemsPerSec),
      requestsPerSec: spread(best.itemsPerSec.map((v) => v / best.batch)),
      p50Ms: spread(best.p50Ms),
      p95Ms: spread(best.p95Ms),
      p99Ms: spread(best.p99Ms),
      note: `best round's items/s by batch ${sweep}`,
    };
  } catch (error) {
    row = { ...base, load: 'sweep', status: 'error', note: String(error).split('\n')[0] };
  }
  ctx.rows.push(row);
  return row;
}
