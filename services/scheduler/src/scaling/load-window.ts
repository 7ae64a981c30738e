import type { ModelLoad, WorkerReport } from '@maas/cluster-state';

/** One model's load over a look-back window, summed over its replicas. */
export interface WindowedLoad {
  /** Mean outstanding requests over the window (Little's law from the workers' busy-time counters). */
  concurrency: number;
  /** Requests finished in the window. */
  requests: number;
  /** Requests running at the latest reports. */
  inFlight: number;
  /** Worst replica p95 (ms) among replicas with enough recent requests to tell; 0 when none. */
  p95Ms: number;
  /** Latest report time at which the model had a request running or finished since the previous one; -Infinity if never. */
  lastActiveAt: number;
}

interface Sample {
  at: number;
  load: ModelLoad;
}

/** A replica's p95 counts only over at least this many requests (a few slow ones are noise). */
const MIN_P95_SAMPLES = 10;

/**
 * Keeps the recent load counters of every (worker, model) pair seen in worker reports and turns
 * them into per-model load over a window. Counters are cumulative per worker process, so a rate
 * needs two reports of the same process; a restarted worker (new startedAt) is a new series.
 */
export class LoadWindow {
  /** model -> series key (worker id and start) -> samples, oldest first. */
  private readonly series = new Map<string, Map<string, Sample[]>>();
  private readonly lastActive = new Map<string, number>();
  private sweptAt = -Infinity;

  /** @param keepMs how long samples are kept: the longest window any model uses. */
  constructor(private keepMs: number) {}

  /** Widens what is kept when a model's window grows. */
  keep(ms: number): void {
    this.keepMs = Math.max(this.keepMs, ms);
  }

  observe(reports: readonly WorkerReport[], now: number): void {
    for (const report of reports) {
      const key = `${report.id}@${report.startedAt}`;
      for (const model of report.models) {
        if (!model.load) continue;
        let byWorker = this.series.get(model.name);
        if (!byWorker) this.series.set(model.name, (byWorker = new Map()));
        const samples = byWorker.get(key);
        const last = samples?.[samples.length - 1];
        if (last && last.at >= report.reportedAt) continue; // the same report, read again
        // Busy now, or finished requests since the last report; a first report tells only when it was last used.
        const busy = model.load.inFlight > 0 || (last !== undefined && model.load.requests > last.load.requests);
        const activeAt = busy ? report.reportedAt : !last && model.load.requests > 0 ? model.lastUsedAt : -Infinity;
        if (activeAt > (this.lastActive.get(model.name) ?? -Infinity)) this.lastActive.set(model.name, activeAt);
        if (samples) {
          samples.push({ at: report.reportedAt, load: model.load });
          trim(samples, now - this.keepMs);
        } else {
          byWorker.set(key, [{ at: report.reportedAt, load: model.load }]);
        }
      }
    }
    if (now - this.sweptAt >= this.keepMs) this.sweep(now);
  }

  /** Forgets series no worker reported within the kept span (the worker or the replica is gone). */
  private sweep(now: number): void {
    this.sweptAt = now;
    const horizon = now - this.keepMs;
    for (const [model, byWorker] of this.series) {
      for (const [key, samples] of byWorker) if (samples[samples.length - 1]!.at < horizon) byWorker.delete(key);
      if (byWorker.size === 0) this.series.delete(model);
    }
  }

  load(model: string, windowMs: number, now: number): WindowedLoad {
    const result: WindowedLoad = { concurrency: 0, requests: 0, inFlight: 0, p95Ms: 0, lastActiveAt: this.lastActive.get(model) ?? -Infinity };
    const byWorker = this.series.get(model);
    if (!byWorker) return result;
    const start = now - windowMs;
    for (const samples of byWorker.values()) {
      const newest = samples[samples.length - 1]!;
      if (newest.at < start) continue; // not reported within the window: the replica or its worker is gone
      result.inFlight += newest.load.inFlight;
      if (newest.load.recent >= MIN_P95_SAMPLES) result.p95Ms = Math.max(result.p95Ms, newest.load.p95Ms);
      // Baseline: the last sample at or before the window's start, else the oldest one inside it.
      let base = samples[0]!;
      for (const sample of samples) {
        if (sample.at > start) break;
        base = sample;
      }
      const span = newest.at - base.at;
      if (span > 0 && newest.load.requests >= base.load.requests) {
        result.concurrency += (newest.load.busyMs - base.load.busyMs) / span;
        result.requests += newest.load.requests - base.load.requests;
      } else {
        result.concurrency += newest.load.inFlight; // one report so far: its instantaneous count
      }
    }
    return result;
  }
}

/** Drops samples older than the horizon, keeping the last one before it as the baseline of a rate. */
function trim(samples: Sample[], horizon: number): void {
  let drop = 0;
  while (drop + 1 < samples.length && samples[drop + 1]!.at <= horizon) drop++;
  if (drop > 0) samples.splice(0, drop);
}
