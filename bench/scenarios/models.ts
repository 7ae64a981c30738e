import type { LoadShape } from '../load/protocol.js';
import type { Row, RowStatus } from '../report.js';
import type { RunningServer } from '../server.js';
import type { BenchContext } from './context.js';
import { measureServed, skippedRow, type ServedSpec } from './served.js';

/** A server to measure, or why its rows are missing. */
export type Availability = { server: RunningServer } | { status: RowStatus; note: string };

/**
 * The model workloads on one path: the classifier at 1 and 32 clients (plus an open-loop row on
 * maas, same offered rate with and without batching), and the MLP. Every request carries one item.
 */
function specs(ctx: BenchContext, path: Row['path'], openRatePerSec: number): Array<Omit<ServedSpec, 'target'>> {
  const timing = ctx.settings.served;
  const closed = (concurrency: number): LoadShape => ({ mode: 'closed', concurrency });
  const list: Array<Omit<ServedSpec, 'target'>> = [
    { section: 'classifier', ref: { kind: 'classifier' }, batch: 1, path, load: closed(1), timing },
    { section: 'classifier', ref: { kind: 'classifier' }, batch: 1, path, load: closed(32), timing },
  ];
  // The echo server does no work per item, so an open-loop row says nothing about it.
  if (path !== 'transport limit' && openRatePerSec > 0) {
    const load: LoadShape = { mode: 'open', ratePerSec: openRatePerSec, arrival: 'poisson', maxOutstanding: 1000 };
    list.push({ section: 'classifier', ref: { kind: 'classifier' }, batch: 1, path, load, timing });
  }
  for (const c of ctx.settings.mlpConcurrency) list.push({ section: 'mlp', ref: { kind: 'mlp' }, batch: 1, path, load: closed(c), timing });
  return list;
}

export async function modelScenarios(ctx: BenchContext, path: Row['path'], availability: Availability, openRatePerSec: number): Promise<void> {
  for (const spec of specs(ctx, path, openRatePerSec)) {
    if ('server' in availability) {
      const { server } = availability;
      await measureServed(ctx, { ...spec, serverPid: server.pid, target: { kind: 'grpc', address: server.grpcAddress, echo: path === 'transport limit' } });
    } else {
      ctx.rows.push(skippedRow(spec, 'gRPC', availability.status, availability.note));
    }
  }
}
