// Command-line options of `npm run bench` and the durations each mode uses.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BatchingSettings } from './server.js';

export interface Timing {
  warmupSeconds: number;
  rounds: number;
  roundSeconds: number;
}

export interface BenchSettings {
  mode: 'quick' | 'full';
  /** Served scenarios (classifier, MLP). */
  served: Timing;
  /** Each payload-sweep point (many points, so shorter). */
  payload: Timing;
  /** Each batch size of the in-process sweep. */
  compute: Timing;
  classifierBatchSizes: number[];
  mlpBatchSizes: number[];
  mlpConcurrency: number[];
  payloadBytes: number[];
  payloadConcurrency: number;
  /** Open-loop arrival rate as a fraction of the classifier's compute limit (best round, items/s). */
  openLoadFraction: number;
  batching: BatchingSettings;
  /** Requests in the soak; 0 = no soak. */
  soakRequests: number;
  soakMaxSeconds: number;
  soakSampleMs: number;
  /** Closed-loop clients of the soak. */
  soakConcurrency: number;
  /** Only the soak: no compute limits, no served scenarios (a long soak can run beside other work). */
  soakOnly: boolean;
  /** Also the cluster scenarios (scheduler hop, scale-out): always in a full run, on request in a quick one. */
  cluster: boolean;
  /** Bounds every round by count too. */
  maxRequestsPerRound: number;
  timeoutMs: number;
  resultsDir: string;
  /** Also print the table as Markdown (for docs/performance.md). */
  markdown: boolean;
}

const USAGE = `usage: npm run bench -- [--quick] [--cluster] [--soak N] [--soak-only] [--soak-concurrency N] [--batch-threads N] [--markdown]
  --quick            short rounds and fewer points (under 2 minutes), no cluster scenarios
  --cluster          with --quick: also the cluster scenarios (about 75 s more)
  --soak N           also run N requests against one server and report its RSS drift
                     (full run default: 200000, or 4 minutes if that comes first;
                     --soak 1000000 is the issue's 1M target; --soak 0 skips)
  --soak-only        run only the soak (default 1000000 requests), nothing else
  --soak-concurrency N  closed-loop clients of the soak (default 32)
  --batch-threads N  num_batch_threads of the batching server (default: unset, the server's default)
  --markdown         also print the table as Markdown`;

/** A bad command line: reported as its message and the usage, without a stack. */
export class UsageError extends Error {}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean', default: false },
        cluster: { type: 'boolean', default: false },
        soak: { type: 'string' },
        'soak-only': { type: 'boolean', default: false },
        'soak-concurrency': { type: 'string', default: '32' },
        'batch-threads': { type: 'string' },
        markdown: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${USAGE}`);
  }
}

export function parseSettings(argv: string[]): BenchSettings {
  const { values } = parse(argv);
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const int = (name: string, raw: string) => {
    if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} expects a non-negative integer, got '${raw}'\n${USAGE}`);
    return Number(raw);
  };
  const quick = values.quick;
  const soakOnly = values['soak-only'];
  const soakAsked = values.soak !== undefined || soakOnly;
  const soakRequests = values.soak !== undefined ? int('soak', values.soak) : soakOnly ? 1_000_000 : quick ? 0 : 200_000;
  return {
    mode: quick ? 'quick' : 'full',
    served: quick ? { warmupSeconds: 0.4, rounds: 3, roundSeconds: 0.8 } : { warmupSeconds: 1, rounds: 5, roundSeconds: 1.5 },
    payload: quick ? { warmupSeconds: 0.2, rounds: 3, roundSeconds: 0.5 } : { warmupSeconds: 0.5, rounds: 3, roundSeconds: 1 },
    compute: quick ? { warmupSeconds: 0.2, rounds: 3, roundSeconds: 0.5 } : { warmupSeconds: 0.5, rounds: 5, roundSeconds: 0.8 },
    classifierBatchSizes: quick ? [1, 16, 64] : [1, 2, 4, 8, 16, 32, 64, 128],
    mlpBatchSizes: quick ? [1, 64, 256] : [1, 4, 16, 64, 256, 1024],
    mlpConcurrency: quick ? [32] : [1, 32],
    payloadBytes: quick ? [100, 10 << 10, 1 << 20, 4 << 20] : [100, 1 << 10, 10 << 10, 100 << 10, 1 << 20, 4 << 20],
    payloadConcurrency: 1,
    openLoadFraction: 0.4,
    batching: { maxBatchSize: 64, batchTimeoutMicros: 2000, maxEnqueuedBatches: 1000, ...(values['batch-threads'] === undefined ? {} : { numBatchThreads: int('batch-threads', values['batch-threads']) }) },
    soakRequests,
    // Time cap of the soak. The full run's default soak stops after 4 minutes even when a busy
    // machine keeps it from reaching its count; an explicit --soak N gets room for 250 requests/s.
    soakMaxSeconds: soakAsked ? Math.max(1800, Math.ceil(soakRequests / 250)) : 240,
    soakSampleMs: 1000,
    soakConcurrency: Math.max(1, int('soak-concurrency', values['soak-concurrency'])),
    soakOnly,
    cluster: !quick || values.cluster,
    maxRequestsPerRound: 1_000_000,
    timeoutMs: 30_000,
    resultsDir: fileURLToPath(new URL('./results', import.meta.url)),
    markdown: values.markdown,
  };
}
