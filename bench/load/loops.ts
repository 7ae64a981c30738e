import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SampleBuffer, summarizeLatencies } from '../stats.js';
import type { LoadShape, RoundResult } from './protocol.js';
import type { Sender } from './targets.js';

export interface RoundLimits {
  seconds: number;
  maxRequests: number;
  /** Items per request, to turn requests into items. */
  items: number;
}

/** Counts and latencies of one round; `finish` turns them into a RoundResult. */
class RoundRecorder {
  readonly latencies: SampleBuffer;
  errors = 0;
  dropped = 0;
  firstError: string | undefined;
  private readonly start = performance.now();
  private lastDone = this.start;

  constructor(capacity: number) {
    this.latencies = new SampleBuffer(capacity);
  }

  ok(latencyMs: number): void {
    this.latencies.push(latencyMs);
    this.lastDone = performance.now();
  }

  failed(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
    this.lastDone = performance.now();
  }

  finish(items: number): RoundResult {
    // Until the last answer, so requests still in flight at the deadline count with their time.
    const seconds = (this.lastDone - this.start) / 1000;
    const requests = this.latencies.length;
    return {
      seconds,
      requests,
      items: requests * items,
      errors: this.errors,
      dropped: this.dropped,
      latency: summarizeLatencies(this.latencies.view()),
      ...(this.firstError ? { firstError: this.firstError } : {}),
    };
  }
}

/** N clients in lock-step with their answers: measures capacity, latency from each send. */
export async function closedLoopRound(sender: Sender, concurrency: number, limits: RoundLimits): Promise<RoundResult> {
  const recorder = new RoundRecorder(limits.maxRequests);
  const end = performance.now() + limits.seconds * 1000;
  let issued = 0;
  const client = async () => {
    while (performance.now() < end && issued < limits.maxRequests) {
      issued++;
      const sent = performance.now();
      try {
        await sender.send();
        recorder.ok(performance.now() - sent);
      } catch (error) {
        recorder.failed(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  return recorder.finish(limits.items);
}

/**
 * Arrivals on a fixed schedule whatever the server does. Latency counts from the scheduled send
 * time, not the actual one, so a stalled server is charged for the requests it delayed
 * (no coordinated omission). In-flight requests are capped; arrivals over the cap are dropped and
 * counted.
 */
export async function openLoopRound(
  sender: Sender,
  shape: Extract<LoadShape, { mode: 'open' }>,
  limits: RoundLimits,
): Promise<RoundResult> {
  const recorder = new RoundRecorder(limits.maxRequests);
  const meanGapMs = 1000 / shape.ratePerSec;
  // Exponential gaps make a Poisson process; 1 - random() is in (0, 1], so log() is finite.
  const gap = shape.arrival === 'poisson' ? () => -Math.log(1 - Math.random()) * meanGapMs : () => meanGapMs;
  const start = performance.now();
  const end = start + limits.seconds * 1000;
  const inFlight = new Set<Promise<void>>();
  let next = start;
  let issued = 0;
  const fire = (scheduled: number) => {
    const done: Promise<void> = sender.send().then(
      () => recorder.ok(performance.now() - scheduled),
      (error: unknown) => recorder.failed(error),
    );
    const tracked = done.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  while (next < end && issued < limits.maxRequests) {
    const now = performance.now();
    // Catch up on every arrival that is due: timers are late, the schedule is not.
    while (next <= now && next < end && issued < limits.maxRequests) {
      issued++;
      if (inFlight.size >= shape.maxOutstanding) recorder.dropped++;
      else fire(next);
      next += gap();
    }
    const wait = next - performance.now();
    if (wait > 0) await sleep(Math.min(wait, end - performance.now()));
  }
  await Promise.all(inFlight);
  return recorder.finish(limits.items);
}
