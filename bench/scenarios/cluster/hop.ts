import type { LoadShape } from '../../load/protocol.js';
import type { Ratio, Row, Target } from '../../report.js';
import { ratio } from '../../stats.js';
import type { WorkloadRef } from '../../workloads.js';
import type { BenchContext } from '../context.js';
import { measureGroup, type ServedSpec } from '../served.js';
import type { LocalCluster } from './local-cluster.js';

const MIN_THROUGHPUT_RATIO = 0.9;
const MAX_P50_ADDED_MS = 0.5;

export interface HopResult {
  ratios: Ratio[];
  targets: Target[];
  /** Per load: p50 added and where the CPU goes (the ratio list holds only ratios). */
  notes: string[];
}

/**
 * The scheduler hop: the same closed-loop load straight to a worker's gRPC port and through the
 * scheduler to that (only) worker, rounds alternating. Identity-model payloads make the hop, not
 * compute, dominate; the classifier shows it next to real model work. The worker row's CPU is the
 * worker's; the scheduler row's is the scheduler's alone (what the hop costs).
 */
export async function hopScenario(ctx: BenchContext, cluster: LocalCluster): Promise<HopResult> {
  const worker = cluster.workers[0]!;
  const quick = ctx.settings.mode === 'quick';
  const refs: WorkloadRef[] = [
    ...(quick ? [100, 100 << 10] : [100, 10 << 10, 100 << 10]).map((bytes) => ({ kind: 'identity', bytes }) as const),
    { kind: 'classifier' },
  ];
  const loads = quick ? [1, 32] : [1, 8, 32];
  const ratios: Ratio[] = [];
  const notes: string[] = [];
  // The targets hold for payloads up to 100 KB: the identity rows (the classifier's request is 110 KB).
  const judged: Array<{ name: string; concurrency: number; throughput?: number; p50AddedMs: number }> = [];
  for (const ref of refs) {
    for (const concurrency of loads) {
      const load: LoadShape = { mode: 'closed', concurrency };
      const spec = (path: Row['path'], address: string, pid: number): ServedSpec => ({
        section: 'hop',
        ref,
        batch: 1,
        path,
        load,
        target: { kind: 'grpc', address },
        serverPid: pid,
      });
      const rows = await measureGroup(ctx, [spec('worker', worker.address, worker.pid), spec('scheduler→worker', cluster.schedulerAddress, cluster.schedulerPid)], {
        timing: ctx.settings.served,
      });
      ctx.rows.push(...rows);
      const [direct, via] = rows as [Row, Row];
      if (direct.status !== 'ok' || via.status !== 'ok') continue;
      const name = `${direct.workload} c=${concurrency}`;
      const throughput = ratio(via.requestsPerSec?.median, direct.requestsPerSec?.median);
      const p50AddedMs = via.p50Ms!.median - direct.p50Ms!.median;
      ratios.push({ name: `hop ${name}: via scheduler / straight to worker, req/s`, value: throughput });
      const cpu = (row: Row) => row.cpuMsPerRequest?.server?.toFixed(2) ?? '?';
      notes.push(
        `hop ${name}: p50 ${direct.p50Ms!.median.toFixed(2)} → ${via.p50Ms!.median.toFixed(2)} ms (${p50AddedMs >= 0 ? '+' : ''}${p50AddedMs.toFixed(2)} ms); CPU ms/req: worker ${cpu(direct)} straight, scheduler ${cpu(via)} on the hop`,
      );
      if (ref.kind === 'identity') judged.push({ name, concurrency, throughput, p50AddedMs });
    }
  }
  // Latency added is judged with one client: under closed-loop load p50 is mostly queueing, which
  // the throughput ratio already covers.
  const unloaded = judged.filter((j) => j.concurrency === 1);
  const lowest = judged.filter((j) => j.throughput !== undefined).sort((a, b) => a.throughput! - b.throughput!)[0];
  const highest = [...unloaded].sort((a, b) => b.p50AddedMs - a.p50AddedMs)[0];
  const targets: Target[] = [
    {
      name: 'hop: throughput via scheduler / straight to the worker, payloads ≤ 100 KB (lowest of the loads measured)',
      goal: `≥ ${MIN_THROUGHPUT_RATIO}×`,
      measured: lowest ? `${lowest.throughput!.toFixed(2)}× (${lowest.name})` : 'n/a',
      met: lowest ? lowest.throughput! >= MIN_THROUGHPUT_RATIO : undefined,
    },
    {
      name: 'hop: p50 latency added by the scheduler, 1 client, payloads ≤ 100 KB (highest of the sizes)',
      goal: `≤ ${MAX_P50_ADDED_MS} ms`,
      measured: highest ? `${highest.p50AddedMs.toFixed(2)} ms (${highest.name})` : 'n/a',
      met: highest ? highest.p50AddedMs <= MAX_P50_ADDED_MS : undefined,
    },
  ];
  return { ratios, targets, notes };
}
