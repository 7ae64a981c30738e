import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoadMeter } from '../../services/worker/src/profiling/index.js';

describe('worker load meter', () => {
  test('the busy-time integral gives mean concurrency between two reads; p95 covers the recent window only', () => {
    let now = 0;
    const meter = new LoadMeter(1000, () => now);
    assert.equal(meter.load('m'), undefined);
    // Two requests overlap for 100 ms, then one more runs alone for 100 ms.
    const a = meter.begin('m');
    const b = meter.begin('m');
    now = 100;
    a();
    b();
    const c = meter.begin('m');
    now = 200;
    const during = meter.load('m')!;
    assert.equal(during.inFlight, 1);
    assert.equal(during.busyMs, 2 * 100 + 1 * 100);
    c();
    c(); // ending twice counts once
    const after = meter.load('m')!;
    assert.equal(after.requests, 3);
    assert.equal(after.inFlight, 0);
    assert.equal(after.p95Ms, 100);
    assert.equal(after.recent, 3);
    now = 5000;
    assert.equal(meter.load('m')!.recent, 0, 'old latencies leave the window');
    assert.equal(meter.load('m')!.busyMs, 300, 'nothing in flight adds nothing');
  });

  test('idleMs: time since a request for some models (or any) last started, what a worker letting them go waits on', () => {
    let now = 0;
    const meter = new LoadMeter(1000, () => now);
    assert.equal(meter.idleMs(), Number.POSITIVE_INFINITY);
    const end = meter.begin('a');
    now = 250;
    assert.equal(meter.idleMs(), 250, 'a request still running does not reset it');
    end();
    meter.begin('b');
    now = 300;
    assert.equal(meter.idleMs(), 50);
    assert.equal(meter.idleMs(['a']), 300);
    assert.equal(meter.idleMs(['a', 'b']), 50);
    assert.equal(meter.idleMs(['c']), Number.POSITIVE_INFINITY);
  });
});
