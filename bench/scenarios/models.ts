import type { LoadShape, TargetSpec } from '../load/protocol.js';
import type { Row } from '../report.js';
import type { RunningServer } from '../server.js';
import type { WorkloadRef } from '../workloads.js';
import type { BenchContext } from './context.js';
import { measureScenario, type Availability, type Candidate } from './served.js';

export type ServedPath = 'transport limit' | 'maas' | 'maas+batching';
export type Servers = Record<ServedPath, Availability>;

const PATHS: ServedPath[] = ['transport limit', 'maas', 'maas+batching'];

export function grpcTarget(path: ServedPath): (server: RunningServer) => TargetSpec {
  return (server) => ({ kind: 'grpc', address: server.grpcAddress, echo: path === 'transport limit' });
}

/**
 * The model workloads, each measured on the echo server, maas and maas with batching side by
 * side: the classifier at 1 and 32 clients, an open-loop classifier row (same offered rate with
 * and without batching; the echo server does no per-item work, so it has none), and the MLP.
 * Every request carries one item.
 */
export async function modelScenarios(ctx: BenchContext, servers: Servers, openRatePerSec: number): Promise<void> {
  const closed = (concurrency: number): LoadShape => ({ mode: 'closed', concurrency });
  const scenarios: Array<{ section: string; ref: WorkloadRef; load: LoadShape; paths: ServedPath[] }> = [
    { section: 'classifier', ref: { kind: 'classifier' }, load: closed(1), paths: PATHS },
    { section: 'classifier', ref: { kind: 'classifier' }, load: closed(32), paths: PATHS },
  ];
  if (openRatePerSec > 0) {
    const open: LoadShape = { mode: 'open', ratePerSec: openRatePerSec, arrival: 'poisson', maxOutstanding: 1000 };
    scenarios.push({ section: 'classifier', ref: { kind: 'classifier' }, load: open, paths: ['maas', 'maas+batching'] });
  }
  for (const c of ctx.settings.mlpConcurrency) scenarios.push({ section: 'mlp', ref: { kind: 'mlp' }, load: closed(c), paths: PATHS });

  for (const s of scenarios) {
    const candidates: Candidate[] = s.paths.map((path) => ({
      row: { section: s.section, ref: s.ref, batch: 1, path, load: s.load, transport: 'gRPC' as Row['transport'] },
      availability: servers[path],
      target: grpcTarget(path),
    }));
    await measureScenario(ctx, candidates, { timing: ctx.settings.served });
  }
}
