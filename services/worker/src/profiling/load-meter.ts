import type { ModelLoad } from '@maas/cluster-state';

/** Latencies kept per model for the p95 (the newest ones; enough for a window at hundreds of requests a second). */
const LATENCY_SAMPLES = 2048;

/** One model's counters: requests in flight, finished, the busy-time integral, recent latencies. */
class ModelMeter {
  inFlight = 0;
  requests = 0;
  private busyMs = 0;
  private since: number;
  private readonly latencies = new Float64Array(LATENCY_SAMPLES);
  private readonly finishedAt = new Float64Array(LATENCY_SAMPLES);
  private next = 0;
  private count = 0;

  constructor(now: number) {
    this.since = now;
  }

  /** Adds in-flight × elapsed time to the integral, up to `now`. */
  private advance(now: number): void {
    this.busyMs += this.inFlight * (now - this.since);
    this.since = now;
  }

  start(now: number): void {
    this.advance(now);
    this.inFlight++;
  }

  finish(now: number, latencyMs: number): void {
    this.advance(now);
    this.inFlight--;
    this.requests++;
    this.latencies[this.next] = latencyMs;
    this.finishedAt[this.next] = now;
    this.next = (this.next + 1) % LATENCY_SAMPLES;
    this.count = Math.min(this.count + 1, LATENCY_SAMPLES);
  }

  snapshot(now: number, windowMs: number): ModelLoad {
    this.advance(now);
    const recent: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.finishedAt[i]! >= now - windowMs) recent.push(this.latencies[i]!);
    recent.sort((a, b) => a - b);
    const p95Ms = recent.length > 0 ? recent[Math.min(recent.length - 1, Math.ceil(recent.length * 0.95) - 1)]! : 0;
    return { inFlight: this.inFlight, requests: this.requests, busyMs: this.busyMs, p95Ms, recent: recent.length, windowMs };
  }
}

/**
 * Per-model load on this worker, for the autoscaler: requests in flight, finished requests and
 * the integral of in-flight over time (so any two reports give the mean concurrency between them,
 * whatever the heartbeat period), and p95 latency over a recent window. Time is monotonic (ms).
 */
export class LoadMeter {
  private readonly models = new Map<string, ModelMeter>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Counts a request as started; call the returned function once when it ends (however it ends). */
  begin(model: string): () => void {
    const startedAt = this.now();
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

  /** The model's counters now; undefined when it never had a request here. */
  load(model: string): ModelLoad | undefined {
    return this.models.get(model)?.snapshot(this.now(), this.windowMs);
  }
}
