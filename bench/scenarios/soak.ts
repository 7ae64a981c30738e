import { performance } from 'node:perf_hooks';
import { rssKiB } from '../processes.js';
import type { Row, RssReport } from '../report.js';
import type { RunningServer } from '../server.js';
import { driftPercent, median } from '../stats.js';
import type { BenchContext } from './context.js';
import { measureScenario } from './served.js';

/**
 * Many requests against one server while its RSS (VmRSS of the child) is sampled. The MLP keeps
 * requests cheap, so the count is reached quickly while the whole request path (decode, batching,
 * onnxruntime, encode) is exercised. The baseline is taken after a warm-up, once caches are full.
 */
/** Samples (one a second) whose median is the soak's start and end RSS. */
const EDGE_SAMPLES = 30;

export async function soak(ctx: BenchContext, server: RunningServer, path: Row['path']): Promise<RssReport | undefined> {
  const s = ctx.settings;
  const samples: RssReport['samples'] = [];
  let start = 0;
  const sample = () => {
    const kib = rssKiB(server.pid);
    // Bounded: at most one sample per interval over the soak's time cap.
    if (kib !== undefined && samples.length <= (s.soakMaxSeconds * 1000) / s.soakSampleMs + 1) {
      samples.push({ atSeconds: (performance.now() - start) / 1000, rssKiB: kib });
    }
  };
  let timer: NodeJS.Timeout | undefined;
  const beginSampling = () => {
    ctx.progress(`soak: ${s.soakRequests} requests (at most ${s.soakMaxSeconds} s), RSS every ${s.soakSampleMs} ms`);
    start = performance.now();
    sample();
    timer = setInterval(sample, s.soakSampleMs);
  };
  let row: Row;
  try {
    [row] = (await measureScenario(
      ctx,
      [{ row: { section: 'soak', ref: { kind: 'mlp' }, batch: 1, path, load: { mode: 'closed', concurrency: s.soakConcurrency }, transport: 'gRPC' }, availability: { server }, target: (srv) => ({ kind: 'grpc', address: srv.grpcAddress }) }],
      { timing: { warmupSeconds: 10, rounds: 1, roundSeconds: s.soakMaxSeconds }, maxRequests: s.soakRequests, onRoundsStart: beginSampling },
    )) as [Row];
  } finally {
    clearInterval(timer);
  }
  sample();
  if (row.status !== 'ok' || samples.length < 2) {
    ctx.notes.push(`soak gave no RSS result: ${row.note ?? row.status}`);
    return undefined;
  }
  const kib = samples.map((x) => x.rssKiB);
  // Start and end are medians of EDGE_SAMPLES samples: a single sample can land just after a
  // collection (the first 1M soak's first sample was 216 MiB, the median of its first 30 246 MiB).
  const startKiB = median(kib.slice(0, EDGE_SAMPLES));
  const endKiB = median(kib.slice(-EDGE_SAMPLES));
  const quarter = Math.max(1, Math.floor(kib.length / 4));
  return {
    server: path,
    requests: row.requests ?? 0,
    seconds: samples[samples.length - 1]!.atSeconds,
    samples,
    startKiB,
    endKiB,
    maxKiB: Math.max(...kib),
    endDriftPercent: driftPercent(startKiB, endKiB),
    maxDriftPercent: Math.max(...kib.map((v) => Math.abs(driftPercent(startKiB, v)))),
    trendDriftPercent: driftPercent(median(kib.slice(0, quarter)), median(kib.slice(-quarter))),
  };
}
