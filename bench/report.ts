// Rows, ratios and targets of one run, and how they are shown: a table on stdout, optionally
// Markdown, and a timestamped JSON file under bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RoundResult } from './load/protocol.js';
import { spread, type Spread } from './stats.js';

export type RowStatus = 'ok' | 'not available yet' | 'unavailable' | 'error';

export interface Row {
  /** Groups rows in the table: 'classifier', 'mlp', 'payload', 'soak'. */
  section: string;
  workload: string;
  /** Which path was measured: a limit, or the served path (cluster rows: a worker, or the scheduler in front of workers). */
  path: 'compute limit' | 'transport limit' | 'maas' | 'maas+batching' | 'worker' | `scheduler→${string}`;
  transport: 'in-process' | 'gRPC' | 'REST';
  load: string;
  status: RowStatus;
  note?: string;
  requestBytes?: number;
  itemsPerSec?: Spread;
  requestsPerSec?: Spread;
  p50Ms?: Spread;
  p95Ms?: Spread;
  p99Ms?: Spread;
  /** CPU time per request (warm-up included) of the serving process and of the load generator. */
  cpuMsPerRequest?: { server?: number; client?: number };
  /** Requests measured over all rounds. */
  requests?: number;
  errors?: number;
  dropped?: number;
}

export interface Ratio {
  name: string;
  value?: number;
  note?: string;
}

export interface Target {
  name: string;
  goal: string;
  measured: string;
  /** undefined: could not be judged (e.g. batching not available yet). */
  met?: boolean;
}

export interface RssReport {
  server: string;
  requests: number;
  seconds: number;
  samples: Array<{ atSeconds: number; rssKiB: number }>;
  /** Medians of the first and last 30 samples (scenarios/soak.ts). */
  startKiB: number;
  endKiB: number;
  maxKiB: number;
  endDriftPercent: number;
  /** Largest |drift| of any sample: includes garbage-collection peaks. */
  maxDriftPercent: number;
  /** Median of the last quarter of samples against the first quarter: the trend, GC peaks smoothed out. */
  trendDriftPercent: number;
}

export interface BenchReport {
  startedAt: string;
  command: string;
  machine: { cpus: number; cpuModel: string; node: string; loadAverageAtStart: number[]; loadAverageAtEnd: number[]; memoryGiB: number };
  settings: unknown;
  rows: Row[];
  ratios: Ratio[];
  targets: Target[];
  soak?: RssReport;
  notes: string[];
}

/** Median and min–max over rounds of each metric a served row shows. */
export function roundMetrics(rounds: RoundResult[]): Pick<Row, 'itemsPerSec' | 'requestsPerSec' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'requests' | 'errors' | 'dropped'> {
  return {
    itemsPerSec: spread(rounds.map((r) => r.items / r.seconds)),
    requestsPerSec: spread(rounds.map((r) => r.requests / r.seconds)),
    p50Ms: spread(rounds.map((r) => r.latency.p50Ms)),
    p95Ms: spread(rounds.map((r) => r.latency.p95Ms)),
    p99Ms: spread(rounds.map((r) => r.latency.p99Ms)),
    requests: rounds.reduce((sum, r) => sum + r.requests, 0),
    errors: rounds.reduce((sum, r) => sum + r.errors, 0),
    dropped: rounds.reduce((sum, r) => sum + r.dropped, 0),
  };
}

function num(value: number): string {
  if (Number.isNaN(value)) return '–';
  if (value >= 100) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** "median (min–max)", or just the median when the rounds agreed. */
export function formatSpread(s: Spread | undefined): string {
  if (!s || Number.isNaN(s.median)) return '–';
  return num(s.min) === num(s.max) ? num(s.median) : `${num(s.median)} (${num(s.min)}–${num(s.max)})`;
}

const COLUMNS = ['section', 'workload', 'path', 'transport', 'load', 'items/s', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'CPU ms/req srv+cli', 'note'] as const;

function cpuCell(cpu: Row['cpuMsPerRequest']): string {
  if (!cpu) return '';
  const f = (v: number | undefined) => (v === undefined ? '?' : num(v));
  return `${f(cpu.server)}+${f(cpu.client)}`;
}

function cells(row: Row): string[] {
  const noteParts = [
    row.status === 'ok' ? '' : row.status,
    row.errors ? `${row.errors} errors` : '',
    row.dropped ? `${row.dropped} dropped` : '',
    row.note ?? '',
  ].filter(Boolean);
  return [
    row.section,
    row.workload,
    row.path,
    row.transport,
    row.load,
    formatSpread(row.itemsPerSec),
    formatSpread(row.requestsPerSec),
    formatSpread(row.p50Ms),
    formatSpread(row.p95Ms),
    formatSpread(row.p99Ms),
    cpuCell(row.cpuMsPerRequest),
    noteParts.join('; ').slice(0, 120),
  ];
}

export function textTable(rows: Row[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...body.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(COLUMNS), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

export function markdownTable(rows: Row[]): string {
  const escape = (c: string) => c.replace(/\|/g, '\\|');
  return [`| ${COLUMNS.join(' | ')} |`, `|${COLUMNS.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${cells(r).map(escape).join(' | ')} |`)].join('\n');
}

export function summaryText(report: BenchReport): string {
  const lines: string[] = ['', 'Ratios (medians):'];
  for (const r of report.ratios) lines.push(`  ${r.name}: ${r.value === undefined ? `n/a${r.note ? ` (${r.note})` : ''}` : `${r.value.toFixed(2)}×`}`);
  lines.push('', 'Targets:');
  for (const t of report.targets) {
    const verdict = t.met === undefined ? 'PENDING' : t.met ? 'MET' : 'NOT MET';
    lines.push(`  [${verdict}] ${t.name}: goal ${t.goal}; measured ${t.measured}`);
  }
  if (report.soak) {
    const s = report.soak;
    lines.push(
      '',
      `Soak (${s.server}): ${s.requests} requests in ${s.seconds.toFixed(0)} s; RSS start ${(s.startKiB / 1024).toFixed(0)} MiB, end ${(s.endKiB / 1024).toFixed(0)} MiB (${s.endDriftPercent.toFixed(1)} %), max ${(s.maxKiB / 1024).toFixed(0)} MiB (${s.maxDriftPercent.toFixed(1)} %), trend ${s.trendDriftPercent.toFixed(1)} %`,
    );
  }
  if (report.notes.length) lines.push('', 'Notes:', ...report.notes.map((n) => `  - ${n}`));
  return lines.join('\n');
}

/** Writes bench/results/<timestamp>-<mode>.json and returns its path. */
export function writeReport(dir: string, report: BenchReport, mode: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${report.startedAt.replace(/[:.]/g, '-')}-${mode}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
