import type { BenchSettings } from '../config.js';
import type { Ratio, Row, RssReport, Target } from '../report.js';
import { ratio } from '../stats.js';

function find(rows: Row[], section: string, path: Row['path'], load?: string): Row | undefined {
  return rows.find((r) => r.section === section && r.path === path && r.transport !== 'REST' && (load === undefined || r.load === load) && r.status === 'ok');
}

/** Served rows count by their median round. */
const items = (row: Row | undefined) => row?.itemsPerSec?.median;
/**
 * Limits count by their best round: other work on the machine can only slow a round down, so the
 * fastest round is the closest to what the hardware can do, and ratios against it are conservative.
 */
const limitItems = (row: Row | undefined) => row?.itemsPerSec?.max;
const x = (value: number | undefined) => (value === undefined ? 'n/a' : `${value.toFixed(2)}×`);

/** Served against its limits, and batched against unbatched, from the medians of this run. */
export function ratios(rows: Row[], settings: BenchSettings): Ratio[] {
  const list: Ratio[] = [];
  for (const section of ['classifier', 'mlp']) {
    const limit = find(rows, section, 'compute limit');
    const loads = section === 'classifier' ? ['c=1', 'c=32'] : settings.mlpConcurrency.map((c) => `c=${c}`);
    for (const load of loads) {
      const plain = find(rows, section, 'maas', load);
      const batched = find(rows, section, 'maas+batching', load);
      const echo = find(rows, section, 'transport limit', load);
      list.push(
        { name: `${section} ${load}: maas / compute limit`, value: ratio(items(plain), limitItems(limit)) },
        { name: `${section} ${load}: maas+batching / compute limit`, value: ratio(items(batched), limitItems(limit)) },
        { name: `${section} ${load}: maas+batching / maas`, value: ratio(items(batched), items(plain)) },
        { name: `${section} ${load}: maas / transport limit`, value: ratio(items(plain), limitItems(echo)) },
        { name: `${section} ${load}: maas+batching / transport limit`, value: ratio(items(batched), limitItems(echo)) },
      );
    }
  }
  return list;
}

/** The targets, judged on this run; undefined `met` when a row they need is missing. */
export function targets(rows: Row[], settings: BenchSettings, soak: RssReport | undefined): Target[] {
  const limit = find(rows, 'classifier', 'compute limit');
  const plain32 = find(rows, 'classifier', 'maas', 'c=32');
  const batched32 = find(rows, 'classifier', 'maas+batching', 'c=32');
  const plain1 = find(rows, 'classifier', 'maas', 'c=1');
  const batched1 = find(rows, 'classifier', 'maas+batching', 'c=1');
  const vsLimit = ratio(items(batched32), limitItems(limit));
  const vsPlain = ratio(items(batched32), items(plain32));
  const budgetMs = settings.batching.batchTimeoutMicros / 1000 + 1;
  const addedMs = batched1?.p50Ms && plain1?.p50Ms ? batched1.p50Ms.median - plain1.p50Ms.median : undefined;
  const judged = (value: number | undefined, ok: (v: number) => boolean) => (value === undefined ? undefined : ok(value));
  return [
    {
      name: 'classifier, 32 clients, batching: served (median) / in-process limit (best round)',
      goal: '≥ 0.80×',
      measured: x(vsLimit),
      met: judged(vsLimit, (v) => v >= 0.8),
    },
    {
      name: 'classifier, 32 clients: batched / unbatched throughput',
      goal: '≥ 1.70×',
      measured: x(vsPlain),
      met: judged(vsPlain, (v) => v >= 1.7),
    },
    {
      name: 'classifier, 1 client: p50 added by batching',
      goal: `≤ ${budgetMs.toFixed(1)} ms (batch_timeout_micros + 1 ms)`,
      measured: addedMs === undefined ? 'n/a' : `${addedMs.toFixed(2)} ms`,
      met: judged(addedMs, (v) => v <= budgetMs),
    },
    {
      name: 'server RSS over the soak',
      goal: 'flat within ±5 % (last quarter of samples vs first quarter, medians)',
      measured: soak
        ? `trend ${soak.trendDriftPercent.toFixed(1)} %, end ${soak.endDriftPercent.toFixed(1)} %, largest excursion ${soak.maxDriftPercent.toFixed(1)} % over ${soak.requests} requests`
        : 'no soak in this run (--soak N)',
      met: soak ? Math.abs(soak.trendDriftPercent) <= 5 : undefined,
    },
  ];
}
