import { parseArgs } from 'node:util';
import { ALL_FAULTS } from './faults.js';
import { runChaos } from './scenario.js';
import { printReport } from './report.js';

/*
 * `npm run chaos`: a cluster (registry, scheduler, workers, Redis with an append-only file) under
 * steady load, hit by every fault in random order for --rounds rounds, a batch job running through
 * each. Options: --rounds=N (3), --workers=N (3), --seed=N, --clients=N (4). Exits 1 when the
 * success rate is under 99.9 %, a fault was not recovered from, or a batch row is missing or doubled.
 */

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    workers: { type: 'string', default: '3' },
    clients: { type: 'string', default: '4' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});

const seed = Number(values.seed);
let state = seed;
const shuffled = () =>
  [...ALL_FAULTS.slice(0, -1)]
    .map((fault) => ({ fault, key: (state = (state * 1103515245 + 12345) % 2 ** 31) }))
    .sort((a, b) => a.key - b.key)
    .map((f) => f.fault);
// The broken-model fault ends each round: its version is removed before the next (see faults.ts).
const faults = Array.from({ length: Number(values.rounds) }, () => [...shuffled(), 'corrupt-model']).flat();
console.log(`chaos: seed ${seed}, ${faults.length} faults`);
const report = await runChaos({
  workers: Number(values.workers),
  replicas: 2,
  faults,
  settleMs: 2000,
  recoverTimeoutMs: 60_000,
  clients: Number(values.clients),
  deadlineMs: 10_000,
  batchRows: 20_000,
  rowsPerChunk: 200,
  seed,
  log: (line) => console.log(`  ${line}`),
});
process.exit(printReport(report) ? 0 : 1);
