import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { callUnary, type UnaryError } from '@maas/test-support';
import { steadyLoad } from '../cluster/cluster-harness.js';
import { ScalingCluster } from './scaling-harness.js';

const summary = (outcomes: Map<string, number>) => JSON.stringify(Object.fromEntries(outcomes));
const total = (outcomes: Map<string, number>) => [...outcomes.values()].reduce((a, b) => a + b, 0);

/**
 * Autoscaling against real processes: a redis-server, a registry, three workers and a scheduler.
 * The machine has two cores, so more replicas add no real capacity here: these tests check the
 * decisions (counts, timing bounds, no failed requests), not throughput. Delays are short so the
 * file runs in about a minute.
 */
describe('autoscaling in a real cluster', () => {
  const cluster = new ScalingCluster([
    '--scale_target_in_flight=1',
    '--scale_window_ms=3000',
    '--scale_up_delay_ms=1000',
    '--scale_down_delay_ms=4000',
    '--scale_to_zero_idle_ms=3000',
  ]);
  let slowPath = '';

  before(async () => {
    slowPath = cluster.writeSlowAdder('slow');
    await cluster.start(3, 'slow', slowPath);
    await cluster.waitFor('slow to be served', async () => (await cluster.predict('slow', 1))[1] === 2, 30_000);
    await cluster.setScaling('slow', 1, 3, {});
  });

  after(() => cluster.stop());

  const model = async (name: string) => (await cluster.describe()).models.find((m) => m.name === name)!;

  test('a step from 1 to 6 concurrent clients raises the replica count to the max; idle workers are reported removable after it falls', async () => {
    let stop = false;
    const light = steadyLoad(cluster, 'slow', 1, () => stop);
    await new Promise((r) => setTimeout(r, 4000));
    const underLight = await model('slow');
    stop = true;
    const lightOutcomes = await light;
    assert.equal(underLight.wantedReplicas, 1, `one client wants one replica: ${underLight.scalingReason}`);

    stop = false;
    const stepAt = Date.now();
    const heavy = steadyLoad(cluster, 'slow', 6, () => stop);
    const reached = await cluster.waitFor('three ready replicas', async () => (await model('slow')).readyReplicas === 3, 40_000);
    const atMax = await model('slow');
    stop = true;
    const heavyOutcomes = await heavy;
    console.log(`step 1 -> 6 clients: 3 replicas ready ${reached} ms after the step (${Date.now() - stepAt} ms incl. teardown); ${atMax.scalingReason}; ${summary(heavyOutcomes)}`);
    assert.equal(atMax.wantedReplicas, 3);
    assert.equal(lightOutcomes.get('OK'), total(lightOutcomes), summary(lightOutcomes));
    assert.equal(heavyOutcomes.get('OK'), total(heavyOutcomes), summary(heavyOutcomes));

    // No load: back to one replica after the scale-down delay, and the emptied workers are removable.
    await cluster.waitFor('one replica again', async () => (await model('slow')).wantedReplicas === 1 && (await model('slow')).readyReplicas === 1, 30_000);
    await cluster.waitFor('removable workers reported', async () => (await cluster.describe()).removableWorkers.length === 2, 10_000);
  });

  test('SIGTERM of a worker holding a replica under load fails no request (it drains)', async () => {
    await cluster.setScaling('slow', 2, 2, {});
    await cluster.waitFor('two ready replicas', async () => (await model('slow')).readyReplicas === 2, 20_000);
    const holders = (await cluster.describe()).workers.filter((w) => w.readyModels.includes('slow')).map((w) => w.id);
    const victim = cluster.workers.find((w) => w.id === holders[0])!;
    let stop = false;
    const load = steadyLoad(cluster, 'slow', 3, () => stop);
    await new Promise((r) => setTimeout(r, 1000));
    const code = await victim.stop('SIGTERM');
    cluster.workers = cluster.workers.filter((w) => w !== victim);
    await cluster.waitFor('two ready replicas again', async () => (await model('slow')).readyReplicas === 2, 20_000);
    stop = true;
    const outcomes = await load;
    console.log(`drain under load: exit ${code}, ${summary(outcomes)}`);
    assert.equal(code, 0);
    assert.ok(total(outcomes) > 20, 'the load ran');
    assert.equal(outcomes.get('OK'), total(outcomes), summary(outcomes));
    await cluster.setScaling('slow', 1, 3, {});
  });

  test('scale to zero after the idle period, and back: requests whose deadline allows the cold start succeed, a too-short one gets UNAVAILABLE naming it', async () => {
    const sleepyPath = cluster.writeAdder('sleepy', [1]);
    await callUnary(cluster.clients.model, 'HandleReloadConfigRequest', {
      config: { model_config_list: { config: [{ name: 'slow', base_path: slowPath }, { name: 'sleepy', base_path: sleepyPath }] } },
    });
    await cluster.setScaling('sleepy', 0, 1, { idleMs: 2000 });
    // At zero: wanted 0, and no worker in the scheduler's view holds it any more, not even UNLOADING
    // (during the unload grace period a request routed there would still be served).
    const atZero = async () => {
      const m = await model('sleepy');
      if (m.wantedReplicas !== 0 || m.readyReplicas !== 0) return false;
      return callUnary(cluster.clients.model, 'GetModelStatus', { model_spec: { name: 'sleepy' } }).then(
        () => false,
        (e: UnaryError) => e.code === grpc.status.NOT_FOUND,
      );
    };
    await cluster.waitFor('sleepy scaled to zero', atZero, 20_000);

    const started = Date.now();
    const burst = await Promise.allSettled(Array.from({ length: 4 }, (_, i) => cluster.predict('sleepy', i, 20_000)));
    const coldStartMs = Date.now() - started;
    console.log(`cold start: 4 concurrent requests answered after ${coldStartMs} ms`);
    assert.deepEqual(
      burst.map((r) => (r.status === 'fulfilled' ? r.value : String((r.reason as UnaryError).details))),
      [0, 1, 2, 3].map((i) => ['1', i + 1]),
    );

    await cluster.waitFor('sleepy scaled to zero again', atZero, 20_000);
    // A report of the loaded replica takes at least one heartbeat (300 ms): 250 ms cannot cover the cold start.
    await assert.rejects(cluster.predict('sleepy', 1, 250), (e: UnaryError) => {
      assert.equal(e.code, grpc.status.UNAVAILABLE, `${e.code}: ${e.details}`);
      assert.match(e.details, /cold start of model sleepy/i);
      return true;
    });
    // The refused request still recorded demand: the replica comes, and the next request is served.
    assert.deepEqual(await cluster.predict('sleepy', 41, 20_000), ['1', 42]);
  });
});
