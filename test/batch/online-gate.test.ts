import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, test } from 'node:test';
import type { ModelHost } from '@maas/worker';
import { OnlineGate } from '../../services/worker/src/batch/online-gate.js';

/** A host whose only version has `leases.count` leases (online plus batch). */
function hostWith(leases: { count: number }): ModelHost {
  const version = { get inFlight() { return leases.count; } };
  return { servedModels: () => [{ versions: new Map([[1, version]]) }] } as unknown as ModelHost;
}

const settledWithin = async (promise: Promise<unknown>, ms: number) =>
  Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('the online gate', () => {
  test('batch waits while online requests are in flight, and goes on once they are done', async () => {
    const leases = { count: 1 };
    const gate = new OnlineGate(hostWith(leases), { threshold: 0, yieldFactor: 0 });
    const admitted = gate.admit(new AbortController().signal);
    assert.equal(await settledWithin(admitted, 100), false, 'held back while an online request runs');
    leases.count = 0;
    assert.equal(await settledWithin(admitted, 1000), true);
  });

  test("the batch's own leases are not online load; the threshold allows that many online requests", async () => {
    const leases = { count: 0 };
    const gate = new OnlineGate(hostWith(leases), { threshold: 1, yieldFactor: 0 });
    const release = gate.holdLease();
    leases.count = 2; // one batch lease, one online request: at the threshold
    assert.equal(gate.onlineInFlight(), 1);
    assert.equal(await settledWithin(gate.admit(new AbortController().signal), 1000), true);
    release();
    release(); // a second release is a no-op
    assert.equal(gate.onlineInFlight(), 2);
    const abort = new AbortController();
    const held = gate.admit(abort.signal);
    abort.abort();
    await assert.rejects(held, { name: 'AbortError' });
  });

  test('while online traffic is recent, each slice is followed by a pause of yieldFactor times its length', async () => {
    const leases = { count: 1 };
    const gate = new OnlineGate(hostWith(leases), { threshold: 1, yieldFactor: 3 });
    gate.ran(20); // online seen now: the next slice waits 60 ms
    const start = performance.now();
    await gate.admit(new AbortController().signal);
    assert.ok(performance.now() - start >= 55, `waited ${performance.now() - start} ms`);
    const quiet = new OnlineGate(hostWith({ count: 0 }), { threshold: 0, yieldFactor: 3 });
    quiet.ran(1000); // no online traffic: no pause
    assert.equal(await settledWithin(quiet.admit(new AbortController().signal), 500), true);
  });
});
