import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ScalingCluster } from './scaling-harness.js';

/**
 * A load that fails on one worker (here: a worker whose only execution provider is cuda, which this
 * machine lacks — the same path as a GPU out of memory at session creation) must not take the
 * worker down, and placement must take the model off it and try another worker.
 */
describe('a replica whose load fails on its worker', () => {
  const cluster = new ScalingCluster([]);
  after(() => cluster.stop());

  test('is reported unplaced while no other worker exists, then placed on a worker where it loads', async () => {
    const base = cluster.writeAdder('adder', [1]);
    await cluster.start(0, 'adder', base);
    const failing = await cluster.startWorker(['--execution_providers=cuda']);
    cluster.workers.push(failing);
    const model = async () => (await cluster.describe()).models.find((m) => m.name === 'adder');

    await cluster.waitFor('the failed load to be reported', async () => {
      const placement = await model();
      return placement?.unplacedReplicas === 1 && /failed to load on 1 worker/.test(placement.scalingReason);
    }, 30_000);
    const reason = (await model())!.scalingReason;
    assert.match(reason, /cuda/i, reason);
    assert.equal(failing.child.exitCode, null, 'the worker whose load failed still runs');
    const failingView = (await cluster.describe()).workers.find((w) => w.id === failing.id);
    assert.ok(failingView, 'and still reports');
    assert.deepEqual(failingView.readyModels, []);

    const healthy = await cluster.startWorker();
    cluster.workers.push(healthy);
    await cluster.waitFor('adder served by the healthy worker', async () => (await cluster.predict('adder', 41))[1] === 42, 30_000);
    const description = await cluster.describe();
    assert.deepEqual(description.workers.filter((w) => w.readyModels.includes('adder')).map((w) => w.id), [healthy.id]);
    assert.equal(description.models.find((m) => m.name === 'adder')?.unplacedReplicas, 0);
    assert.equal(failing.child.exitCode, null);
  });
});
