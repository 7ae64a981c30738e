import type { LoadShape } from '../load/protocol.js';
import type { Row } from '../report.js';
import { formatBytes } from '../workloads.js';
import type { BenchContext } from './context.js';
import { grpcTarget, type Servers } from './models.js';
import { measureScenario, type Availability, type Candidate } from './served.js';

/**
 * Request sizes from 100 B to 4 MB through the identity model (maas over gRPC and REST) next to
 * the echo server (gRPC), which answers with as many bytes: where transport cost takes over.
 */
export async function payloadSweep(ctx: BenchContext, servers: Servers): Promise<void> {
  const load: LoadShape = { mode: 'closed', concurrency: ctx.settings.payloadConcurrency };
  // REST found missing (404, or no port) at one size is skipped, with the same note, at the others.
  let rest: Availability = servers.maas;
  if ('server' in rest && rest.server.restPort === undefined) rest = { status: 'unavailable', note: 'server reported no REST port' };

  for (const bytes of ctx.settings.payloadBytes) {
    const row = (path: Row['path'], transport: Row['transport']) => ({ section: 'payload', ref: { kind: 'identity' as const, bytes }, batch: 1, path, load, transport });
    const candidates: Candidate[] = [
      { row: row('transport limit', 'gRPC'), availability: servers['transport limit'], target: grpcTarget('transport limit') },
      { row: row('maas', 'gRPC'), availability: servers.maas, target: grpcTarget('maas') },
      { row: row('maas', 'REST'), availability: rest, target: (server) => ({ kind: 'rest', host: '127.0.0.1', port: server.restPort! }) },
    ];
    const rows = await measureScenario(ctx, candidates, { timing: ctx.settings.payload });
    const restRow = rows[2]!;
    if (restRow.status === 'unavailable' && 'server' in rest) rest = { status: 'unavailable', note: restRow.note ?? 'REST unavailable' };
    for (const r of rows) {
      // Bytes per second is what a payload row is about; the request size differs by transport.
      if (r.status === 'ok' && r.requestBytes !== undefined && r.requestsPerSec) {
        const mbPerSec = (r.requestBytes * r.requestsPerSec.median) / 1e6;
        r.note = [`${formatBytes(r.requestBytes)} requests, ${mbPerSec.toFixed(1)} MB/s up`, r.note].filter(Boolean).join('; ');
      }
    }
  }
}
