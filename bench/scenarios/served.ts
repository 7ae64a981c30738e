import type { Timing } from '../config.js';
import type { LoadJob, LoadShape, TargetSpec } from '../load/protocol.js';
import { cpuSeconds } from '../processes.js';
import { roundMetrics, type Row, type RowStatus } from '../report.js';
import { workload, type WorkloadRef } from '../workloads.js';
import type { BenchContext } from './context.js';

export interface ServedSpec {
  section: string;
  ref: WorkloadRef;
  batch: number;
  path: Row['path'];
  target: TargetSpec;
  load: LoadShape;
  timing: Timing;
  /** The serving process, whose CPU time per request the row reports. */
  serverPid?: number;
  /** Overrides the per-round request cap (the soak's request count). */
  maxRequests?: number;
}

export function loadLabel(load: LoadShape): string {
  return load.mode === 'closed' ? `c=${load.concurrency}` : `open ${Math.round(load.ratePerSec)}/s ${load.arrival}`;
}

function rowBase(spec: Omit<ServedSpec, 'target'> & { target?: TargetSpec }, transport: Row['transport']) {
  return { section: spec.section, workload: workload(spec.ref).label, path: spec.path, transport, load: loadLabel(spec.load) };
}

/** A row that was not measured (server missing a feature or failing to start), kept so the table shows the gap. */
export function skippedRow(spec: Omit<ServedSpec, 'target'>, transport: Row['transport'], status: RowStatus, note: string): Row {
  return { ...rowBase(spec, transport), status, note };
}

let nextId = 0;

/** CPU time a process spends from now on, per request. */
function cpuMeter(pid: number) {
  const before = cpuSeconds(pid);
  return {
    msPer(requests: number): number | undefined {
      const after = cpuSeconds(pid);
      return after === undefined || before === undefined || requests === 0 ? undefined : ((after - before) * 1000) / requests;
    },
  };
}

/** One scenario through the load generator: warm-up, then rounds; the row holds their medians. */
export async function measureServed(ctx: BenchContext, spec: ServedSpec): Promise<Row> {
  const transport = spec.target.kind === 'rest' ? 'REST' : 'gRPC';
  const base = rowBase(spec, transport);
  ctx.progress(`${base.path} ${transport}: ${base.workload} ${base.load}`);
  const t = spec.timing;
  const job: LoadJob = {
    id: String(nextId++),
    target: spec.target,
    workload: spec.ref,
    batch: spec.batch,
    load: spec.load,
    warmupSeconds: t.warmupSeconds,
    rounds: t.rounds,
    roundSeconds: t.roundSeconds,
    maxRequestsPerRound: spec.maxRequests ?? ctx.settings.maxRequestsPerRound,
    timeoutMs: ctx.settings.timeoutMs,
  };
  // Time for the rounds, requests still in flight at the end, and a slow probe.
  const budgetMs = (t.warmupSeconds + t.rounds * t.roundSeconds) * 1000 + (t.rounds + 2) * ctx.settings.timeoutMs;
  let row: Row;
  try {
    const generator = cpuMeter(ctx.generator.start());
    const server = spec.serverPid === undefined ? undefined : cpuMeter(spec.serverPid);
    const result = await ctx.generator.run(job, budgetMs);
    const sent = result.unmeasuredRequests + result.rounds.reduce((n, r) => n + r.requests + r.errors, 0);
    row = { ...base, status: result.status, requestBytes: result.requestBytes, ...(result.note ? { note: result.note } : {}) };
    if (result.status === 'ok') {
      Object.assign(row, roundMetrics(result.rounds), { cpuMsPerRequest: { server: server?.msPer(sent), client: generator.msPer(sent) } });
    }
  } catch (error) {
    row = { ...base, status: 'error', note: String(error).split('\n')[0] };
  }
  ctx.rows.push(row);
  return row;
}
