import type { Row } from '../report.js';
import { formatBytes } from '../workloads.js';
import type { BenchContext } from './context.js';
import type { Availability } from './models.js';
import { measureServed, skippedRow, type ServedSpec } from './served.js';

/**
 * Request sizes from 100 B to 4 MB through the identity model (maas: gRPC, and REST when served)
 * or the echo server (gRPC), which answers with the same bytes: where transport cost takes over.
 */
export async function payloadSweep(ctx: BenchContext, path: Row['path'], availability: Availability): Promise<void> {
  const s = ctx.settings;
  const spec = (bytes: number): Omit<ServedSpec, 'target'> => ({
    section: 'payload',
    ref: { kind: 'identity', bytes },
    batch: 1,
    path,
    load: { mode: 'closed', concurrency: s.payloadConcurrency },
    timing: s.payload,
  });
  const transports: Array<Row['transport']> = path === 'transport limit' ? ['gRPC'] : ['gRPC', 'REST'];
  for (const transport of transports) {
    // Once REST is known to be missing, the other sizes are skipped with the same note.
    let missing: Row | undefined;
    for (const bytes of s.payloadBytes) {
      if (!('server' in availability)) {
        ctx.rows.push(skippedRow(spec(bytes), transport, availability.status, availability.note));
      } else if (missing) {
        ctx.rows.push(skippedRow(spec(bytes), transport, missing.status, missing.note ?? ''));
      } else if (transport === 'REST' && availability.server.restPort === undefined) {
        missing = skippedRow(spec(bytes), transport, 'unavailable', 'server reported no REST port');
        ctx.rows.push(missing);
      } else {
        const { server } = availability;
        const target = transport === 'gRPC'
          ? { kind: 'grpc' as const, address: server.grpcAddress, echo: path === 'transport limit' }
          : { kind: 'rest' as const, host: '127.0.0.1', port: server.restPort! };
        const row = await measureServed(ctx, { ...spec(bytes), serverPid: server.pid, target });
        if (row.status === 'unavailable') missing = row;
        // Bytes per second is what a payload row is about; the request size differs by transport.
        if (row.status === 'ok' && row.requestBytes !== undefined && row.requestsPerSec) {
          const mbPerSec = (row.requestBytes * row.requestsPerSec.median) / 1e6;
          row.note = [`${formatBytes(row.requestBytes)} requests, ${mbPerSec.toFixed(1)} MB/s up`, row.note].filter(Boolean).join('; ');
        }
      }
    }
  }
}
