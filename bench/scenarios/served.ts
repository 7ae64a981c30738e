import type { Timing } from '../config.js';
import type { LoadJob, LoadShape, RoundResult, TargetSpec } from '../load/protocol.js';
import { cpuSeconds } from '../processes.js';
import { roundMetrics, type Row, type RowStatus } from '../report.js';
import { workload, type WorkloadRef } from '../workloads.js';
import type { RunningServer } from '../server.js';
import type { BenchContext } from './context.js';

/** One workload under one load on one path; a group of these is measured side by side. */
export interface ServedSpec {
  section: string;
  ref: WorkloadRef;
  batch: number;
  path: Row['path'];
  load: LoadShape;
  target: TargetSpec;
  /** The serving process, whose CPU time per request the row reports. */
  serverPid?: number;
}

export type RowSpec = Omit<ServedSpec, 'target' | 'serverPid'> & { transport: Row['transport'] };

export interface GroupOptions {
  timing: Timing;
  /** Overrides the per-round request cap (the soak's request count). */
  maxRequests?: number;
  /** Called once every spec is warmed up, just before the measured rounds (the soak's RSS baseline). */
  onRoundsStart?: () => void;
}

export function loadLabel(load: LoadShape): string {
  return load.mode === 'closed' ? `c=${load.concurrency}` : `open ${Math.round(load.ratePerSec)}/s ${load.arrival}`;
}

export function transportOf(target: TargetSpec): Row['transport'] {
  return target.kind === 'rest' ? 'REST' : 'gRPC';
}

function rowBase(spec: RowSpec) {
  return { section: spec.section, workload: workload(spec.ref).label, path: spec.path, transport: spec.transport, load: loadLabel(spec.load) };
}

/** A row that was not measured (server missing a feature or failing to start), kept so the table shows the gap. */
export function skippedRow(spec: RowSpec, status: RowStatus, note: string): Row {
  return { ...rowBase(spec), status, note };
}

let nextId = 0;

/** Runs one job in the generator; CPU seconds of the server and of the generator over it. */
async function runJob(ctx: BenchContext, spec: ServedSpec, timing: Timing, maxRequests?: number) {
  const job: LoadJob = {
    id: String(nextId++),
    target: spec.target,
    workload: spec.ref,
    batch: spec.batch,
    load: spec.load,
    ...timing,
    maxRequestsPerRound: maxRequests ?? ctx.settings.maxRequestsPerRound,
    timeoutMs: ctx.settings.timeoutMs,
  };
  // Time for the rounds, requests still in flight at the end, and a slow probe.
  const budgetMs = (timing.warmupSeconds + timing.rounds * timing.roundSeconds) * 1000 + (timing.rounds + 2) * ctx.settings.timeoutMs;
  const generatorPid = ctx.generator.start();
  const before = { server: spec.serverPid === undefined ? undefined : cpuSeconds(spec.serverPid), client: cpuSeconds(generatorPid) };
  const result = await ctx.generator.run(job, budgetMs);
  const delta = (pid: number | undefined, start: number | undefined) => {
    const end = pid === undefined ? undefined : cpuSeconds(pid);
    return end === undefined || start === undefined ? undefined : end - start;
  };
  return { result, cpu: { server: delta(spec.serverPid, before.server), client: delta(generatorPid, before.client) } };
}

interface Entry {
  spec: ServedSpec;
  row?: Row;
  requestBytes: number;
  rounds: RoundResult[];
  note?: string;
  cpu: { server?: number; client?: number };
  /** Requests sent during the measured rounds (CPU is divided by these). */
  sent: number;
}

const add = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : a + b);

/**
 * Measures specs side by side: each is warmed up, then rounds alternate between them (in a
 * rotating order), so a burst of other work on this shared machine hits every path about equally
 * and their ratios stay meaningful. Rows come back in the order of `specs`.
 */
export async function measureGroup(ctx: BenchContext, specs: ServedSpec[], options: GroupOptions): Promise<Row[]> {
  const t = options.timing;
  const entries: Entry[] = specs.map((spec) => ({ spec, requestBytes: 0, rounds: [], cpu: { server: 0, client: 0 }, sent: 0 }));
  const fail = (entry: Entry, status: RowStatus, note: string) => {
    entry.row = { ...rowBase({ ...entry.spec, transport: transportOf(entry.spec.target) }), status, note };
  };
  for (const entry of entries) {
    const base = rowBase({ ...entry.spec, transport: transportOf(entry.spec.target) });
    ctx.progress(`${base.path} ${base.transport}: ${base.workload} ${base.load}`);
    try {
      const { result } = await runJob(ctx, entry.spec, { warmupSeconds: t.warmupSeconds, rounds: 0, roundSeconds: 0 });
      if (result.status !== 'ok') fail(entry, result.status, result.note ?? result.status);
      entry.requestBytes = result.requestBytes;
    } catch (error) {
      fail(entry, 'error', String(error).split('\n')[0]!);
    }
  }
  options.onRoundsStart?.();
  for (let round = 0; round < t.rounds; round++) {
    const live = entries.filter((e) => !e.row);
    for (let k = 0; k < live.length; k++) {
      const entry = live[(round + k) % live.length]!;
      try {
        const { result, cpu } = await runJob(ctx, entry.spec, { warmupSeconds: 0, rounds: 1, roundSeconds: t.roundSeconds }, options.maxRequests);
        if (result.status !== 'ok') {
          fail(entry, result.status, result.note ?? result.status);
          continue;
        }
        entry.rounds.push(...result.rounds);
        entry.note ??= result.note;
        entry.cpu = { server: add(entry.cpu.server, cpu.server), client: add(entry.cpu.client, cpu.client) };
        entry.sent += result.unmeasuredRequests + result.rounds.reduce((n, r) => n + r.requests + r.errors, 0);
      } catch (error) {
        fail(entry, 'error', String(error).split('\n')[0]!);
      }
    }
  }
  return entries.map((entry) => entry.row ?? okRow(entry));
}

function okRow(entry: Entry): Row {
  const perRequestMs = (seconds: number | undefined) => (seconds === undefined || entry.sent === 0 ? undefined : (seconds * 1000) / entry.sent);
  return {
    ...rowBase({ ...entry.spec, transport: transportOf(entry.spec.target) }),
    status: 'ok',
    requestBytes: entry.requestBytes,
    ...roundMetrics(entry.rounds),
    cpuMsPerRequest: { server: entry.spec.serverPid === undefined ? undefined : perRequestMs(entry.cpu.server), client: perRequestMs(entry.cpu.client) },
    ...(entry.note ? { note: entry.note } : {}),
  };
}


/** A server to measure on, or why its rows are missing. */
export type Availability = { server: RunningServer } | { status: RowStatus; note: string };

export interface Candidate {
  row: RowSpec;
  availability: Availability;
  /** How to reach the server (gRPC, echo or REST). */
  target: (server: RunningServer) => TargetSpec;
}

/**
 * One scenario on several paths: the available ones measured as a group, the others as skipped
 * rows; rows go to ctx.rows in the candidates' order and are returned.
 */
export async function measureScenario(ctx: BenchContext, candidates: Candidate[], options: GroupOptions): Promise<Row[]> {
  const specs: ServedSpec[] = [];
  for (const c of candidates) {
    if ('server' in c.availability) specs.push({ ...c.row, target: c.target(c.availability.server), serverPid: c.availability.server.pid });
  }
  const measured = await measureGroup(ctx, specs, options);
  const rows = candidates.map((c) => ('server' in c.availability ? measured.shift()! : skippedRow(c.row, c.availability.status, c.availability.note)));
  ctx.rows.push(...rows);
  return rows;
}
