import type { ModelLoad } from './scaling-types.js';

/** Latencies kept for the p95 by default (the newest ones; enough for a window at hundreds of requests a second). */
const LATENCY_SAMPLES = 2048;

/**
 * One model's load counters on one worker, as its reports carry them (ModelLoad): requests in
 * flight, finished, the integral of in-flight over time, and the newest latencies for a p95. The
 * worker's LoadMeter and the simulator's replicas both count with it. Time is monotonic (ms).
 */
export class ModelMeter {
  inFlight = 0;
  requests = 0;
  private busyMs = 0;
  private since: number;
  private readonly latencies: Float64Array;
  private readonly finishedAt: Float64Array;
  private next = 0;
  private count = 0;

  constructor(now: number, samples = LATENCY_SAMPLES) {
    this.since = now;
    this.latencies = new Float64Array(samples);
    this.finishedAt = new Float64Array(samples);
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
    this.next = (this.next + 1) % this.latencies.length;
    this.count = Math.min(this.count + 1, this.latencies.length);
  }

  /** A request that will not finish here (its worker died): it leaves the in-flight count unmeasured. */
  abandon(now: number): void {
    this.advance(now);
    this.inFlight--;
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
