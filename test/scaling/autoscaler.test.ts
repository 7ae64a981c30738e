import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ReplicaRange, WorkerReport } from '@maas/cluster-state';
import { HorizontalAutoscaler, LoadWindow, scalingPolicy, type ScalingDefaults } from '../../services/scheduler/src/scaling/index.js';

const defaults: ScalingDefaults = { targetInFlight: 2, windowMs: 5_000, scaleUpDelayMs: 3_000, scaleDownDelayMs: 20_000, idleMs: 30_000, tolerance: 0.1 };

/** One simulated worker that holds model 'm' and reports cumulative load counters each second. */
class FakeWorker {
  requests = 0;
  busyMs = 0;
  constructor(
    readonly id = 'w1',
    readonly startedAt = 0,
  ) {}

  /** Advances one second at the given mean concurrency (10 requests per unit of concurrency). */
  report(at: number, concurrency: number, p95Ms = 5): WorkerReport {
    this.busyMs += concurrency * 1000;
    this.requests += Math.round(concurrency * 10);
    return {
      id: this.id,
      address: 'x',
      capacity: { cores: 2, memoryBytes: 1, providers: ['cpu'], gpuMemoryBytes: 0 },
      models: [
        {
          name: 'm',
          lastUsedAt: at,
          versions: [{ version: 1, state: 3, memoryBytes: 1, gpuMemoryBytes: 0, provider: 'cpu' }],
          load: { inFlight: Math.round(concurrency), requests: this.requests, busyMs: this.busyMs, p95Ms, recent: concurrency > 0 ? 100 : 0, windowMs: 10_000 },
        },
      ],
      inFlight: Math.round(concurrency),
      startedAt: this.startedAt,
      reportedAt: at,
      ttlMs: 3000,
      draining: false,
    };
  }
}

/** Runs one round per second over the given concurrency per second; returns the wanted count after each. */
function drive(range: ReplicaRange, concurrency: readonly number[], options: { placed?: number; p95?: number; demandAt?: (t: number) => number | undefined } = {}) {
  const scaler = new HorizontalAutoscaler();
  const worker = new FakeWorker();
  const counts: number[] = [];
  concurrency.forEach((c, second) => {
    const now = (second + 1) * 1000;
    scaler.observe([worker.report(now, c, options.p95)], now);
    counts.push(scaler.decide({ name: 'm', policy: scalingPolicy(range, defaults), placed: options.placed ?? 1, demandAt: options.demandAt?.(now) }, now).wanted);
  });
  return counts;
}

const repeat = (value: number, times: number) => Array<number>(times).fill(value);

describe('horizontal autoscaler', () => {
  test('a step in load raises the count to ceil(concurrency / target) once it has lasted the scale-up delay', () => {
    const counts = drive({ min: 1, max: 10 }, [...repeat(1, 10), ...repeat(7, 20)]);
    assert.deepEqual(counts.slice(0, 10), repeat(1, 10));
    const firstRise = counts.findIndex((c) => c > 1);
    assert.ok(firstRise >= 10 + 2, `rose at second ${firstRise}, before the 3 s delay`);
    assert.equal(counts.at(-1), 4); // ceil(7 / 2)
  });

  test('load swinging faster than the scale-down delay does not flap the count', () => {
    const swings = Array.from({ length: 60 }, (_, i) => (Math.floor(i / 4) % 2 === 0 ? 8 : 1));
    const counts = drive({ min: 1, max: 10 }, swings, { placed: 4 });
    const changes = counts.filter((c, i) => i > 0 && c !== counts[i - 1]).length;
    assert.ok(changes <= 1, `count changed ${changes} times: ${counts.join(',')}`);
    assert.equal(counts.at(-1), 4);
  });

  test('a fall is applied only after the scale-down delay; changes inside the tolerance are ignored', () => {
    const counts = drive({ min: 1, max: 10 }, [...repeat(8, 10), ...repeat(2, 40)], { placed: 4 });
    const fallAt = counts.findIndex((c, i) => i >= 10 && c < 4);
    assert.ok(fallAt >= 10 + 19, `fell at second ${fallAt}, before the 20 s delay`);
    assert.equal(counts.at(-1), 1);
    // 4.3 outstanding on 2 replicas of target 2 is within 10 %: stays at 2.
    assert.deepEqual(drive({ min: 1, max: 10 }, repeat(4.3, 30), { placed: 2 }).at(-1), 2);
  });

  test('min 0: an idle model goes to zero after the idle period, and demand brings one replica back at once', () => {
    const counts = drive({ min: 0, max: 3 }, [...repeat(1, 5), ...repeat(0, 60)], { demandAt: (t) => (t >= 50_000 ? 50_000 : undefined) });
    const zeroAt = counts.indexOf(0);
    assert.ok(zeroAt >= 5 + 29 && zeroAt < 50, `went to zero at second ${zeroAt}`);
    assert.equal(counts[48], 0);
    assert.equal(counts[49], 1); // demand recorded at 50 s: one replica in the same round
    assert.equal(counts.at(-1), 1);
    // min 1 never goes to zero.
    assert.equal(Math.min(...drive({ min: 1, max: 3 }, repeat(0, 60))), 1);
    // A model at zero when first seen (e.g. by a new placement leader) stays there until demand.
    assert.deepEqual(drive({ min: 0, max: 3 }, repeat(0, 5), { placed: 0 }), repeat(0, 5));
  });

  test('p95 above the latency objective scales up even when concurrency is within target', () => {
    const range: ReplicaRange = { min: 1, max: 5, latencyObjectiveMs: 100 };
    const counts = drive(range, repeat(2, 20), { placed: 2, p95: 250 });
    assert.ok(counts.at(-1)! >= 3, `count ${counts.at(-1)} with p95 above the objective`);
    assert.ok(counts.every((c) => c <= 5), 'capped at max');
    assert.equal(drive(range, repeat(2, 30), { placed: 2, p95: 20 }).at(-1), 1); // within objective: concurrency rules
  });

  test('the range clamps the count, and a model first seen is not scaled down before the delay', () => {
    assert.equal(drive({ min: 1, max: 3 }, repeat(20, 10)).at(-1), 3);
    assert.equal(drive({ min: 2, max: 3 }, repeat(0, 5)).at(-1), 2);
    assert.deepEqual(drive({ min: 1, max: 8 }, repeat(0, 10), { placed: 5 }), repeat(5, 10));
  });
});

describe('load window', () => {
  test('concurrency is the busy-time rate over the window, summed over workers; a restarted worker is a new series', () => {
    const window = new LoadWindow(10_000);
    const a = new FakeWorker('a');
    const b = new FakeWorker('b');
    for (let s = 1; s <= 5; s++) window.observe([a.report(s * 1000, 3), b.report(s * 1000, 1)], s * 1000);
    const load = window.load('m', 3_000, 5_000);
    assert.ok(Math.abs(load.concurrency - 4) < 1e-9, `concurrency ${load.concurrency}`);
    assert.equal(load.requests, 120); // (30 + 10) per second over 3 s
    // b restarts: its counters start again from zero; nothing goes negative.
    const restarted = new FakeWorker('b', 99);
    for (let s = 6; s <= 8; s++) window.observe([a.report(s * 1000, 3), restarted.report(s * 1000, 1)], s * 1000);
    const after = window.load('m', 3_000, 8_000);
    assert.ok(after.concurrency > 3.9 && after.concurrency < 5.1, `concurrency after restart ${after.concurrency}`);
  });

  test('p95 is the worst replica with enough requests, and the last activity time is kept', () => {
    const window = new LoadWindow(10_000);
    const busy = new FakeWorker('a').report(1000, 2, 40);
    const quiet = new FakeWorker('b').report(1000, 0, 900);
    window.observe([busy, quiet], 1000);
    const load = window.load('m', 5_000, 1000);
    assert.equal(load.p95Ms, 40); // b's 900 ms is over zero recent requests
    assert.equal(load.lastActiveAt, 1000);
  });
});
