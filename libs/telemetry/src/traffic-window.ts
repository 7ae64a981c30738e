/** Requests of one model in one second. */
interface SecondBucket {
  second: number;
  count: number;
  errors: number;
  /** Latencies in ms, at most SAMPLES_PER_SECOND of them (enough for percentiles on a dashboard). */
  latencies: number[];
}

export interface TrafficPoint {
  /** Epoch ms of the second's start. */
  at: number;
  requestsPerSecond: number;
  p50Ms?: number;
  p95Ms?: number;
}

export interface ModelTraffic {
  model: string;
  /** Over the last `recentSeconds`. */
  requestsPerSecond: number;
  errorsPerSecond: number;
  p50Ms?: number;
  p95Ms?: number;
  total: number;
  /** One point per second, oldest first, for charts. */
  series: TrafficPoint[];
}

const SAMPLES_PER_SECOND = 256;

function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/**
 * Recent requests per model, kept per second for a bounded window: what the dashboard plots
 * (throughput and latency) without scraping Prometheus. Memory is models x window seconds.
 */
export class TrafficWindow {
  private readonly models = new Map<string, { total: number; buckets: SecondBucket[] }>();

  constructor(
    private readonly windowSeconds = 120,
    private readonly now: () => number = Date.now,
  ) {}

  record(model: string, latencyMs: number, ok: boolean): void {
    const second = Math.floor(this.now() / 1000);
    let entry = this.models.get(model);
    if (!entry) this.models.set(model, (entry = { total: 0, buckets: [] }));
    entry.total++;
    let bucket = entry.buckets.at(-1);
    if (bucket?.second !== second) {
      bucket = { second, count: 0, errors: 0, latencies: [] };
      entry.buckets.push(bucket);
      while (entry.buckets.length > 0 && entry.buckets[0]!.second <= second - this.windowSeconds) entry.buckets.shift();
    }
    bucket.count++;
    if (!ok) bucket.errors++;
    if (bucket.latencies.length < SAMPLES_PER_SECOND) bucket.latencies.push(latencyMs);
  }

  /** Every model seen, with rates over the last `recentSeconds` complete and current seconds. */
  snapshot(recentSeconds = 10, seriesSeconds = 60): ModelTraffic[] {
    const current = Math.floor(this.now() / 1000);
    return [...this.models.entries()].map(([model, entry]) => {
      const recent = entry.buckets.filter((b) => b.second > current - recentSeconds);
      const latencies = recent.flatMap((b) => b.latencies).sort((a, b) => a - b);
      const bySecond = new Map(entry.buckets.map((b) => [b.second, b]));
      const series: TrafficPoint[] = [];
      for (let second = current - seriesSeconds + 1; second <= current; second++) {
        const bucket = bySecond.get(second);
        const sorted = bucket ? [...bucket.latencies].sort((a, b) => a - b) : [];
        series.push({ at: second * 1000, requestsPerSecond: bucket?.count ?? 0, p50Ms: percentile(sorted, 0.5), p95Ms: percentile(sorted, 0.95) });
      }
      return {
        model,
        requestsPerSecond: recent.reduce((n, b) => n + b.count, 0) / recentSeconds,
        errorsPerSecond: recent.reduce((n, b) => n + b.errors, 0) / recentSeconds,
        p50Ms: percentile(latencies, 0.5),
        p95Ms: percentile(latencies, 0.95),
        total: entry.total,
        series,
      };
    });
  }
}
