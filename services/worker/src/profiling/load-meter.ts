import { ModelMeter, type ModelLoad } from '@maas/cluster-state';

/**
 * Per-model load on this worker, for the autoscaler: requests in flight, finished requests and
 * the integral of in-flight over time (so any two reports give the mean concurrency between them,
 * whatever the heartbeat period), and p95 latency over a recent window. Time is monotonic (ms).
 */
export class LoadMeter {
  private readonly models = new Map<string, ModelMeter>();
  /** When a request last started, per model. */
  private readonly lastStarts = new Map<string, number>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts a request as started; call the returned function once when it ends (however it ends). */
  begin(model: string): () => void {
    const startedAt = this.now();
    this.lastStarts.set(model, startedAt);
    let meter = this.models.get(model);
    if (!meter) this.models.set(model, (meter = new ModelMeter(startedAt)));
    meter.start(startedAt);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const now = this.now();
      meter.finish(now, now - startedAt);
    };
  }

  /** Milliseconds since a request for one of `models` (default: any) last started here; Infinity if none did. */
  idleMs(models: Iterable<string> = this.lastStarts.keys()): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const model of models) last = Math.max(last, this.lastStarts.get(model) ?? Number.NEGATIVE_INFINITY);
    return this.now() - last;
  }

  /** The model's counters now; undefined when it never had a request here. */
  load(model: string): ModelLoad | undefined {
    return this.models.get(model)?.snapshot(this.now(), this.windowMs);
  }
}
