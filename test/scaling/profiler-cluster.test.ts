import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { ScalingCluster } from './scaling-harness.js';

/** A worker started with --profile_models profiles each version as it loads and reports the choice in DescribeCluster. */
describe('vertical profiling in a real worker', () => {
  const cluster = new ScalingCluster([], ['--profile_models', '--profile_budget_ms=1500', '--profile_latency_objective_ms=1000', '--profile_batch_sizes=1,8', '--enable_batching']);

  before(async () => {
    const base = cluster.writeSlowAdder('slow');
    await cluster.start(1, 'slow', base);
    await cluster.waitFor('slow to be served', async () => (await cluster.predict('slow', 1))[1] === 2, 30_000);
  });

  after(() => cluster.stop());

  test('the profile picks and reports a configuration; the model serves with it', async () => {
    await cluster.waitFor('a profile in DescribeCluster', async () => (await cluster.describe()).workers[0]!.profiles.length === 1, 10_000);
    const profile = (await cluster.describe()).workers[0]!.profiles[0]!;
    console.log(`profile: ${JSON.stringify(profile, (_, v) => (typeof v === 'bigint' ? String(v) : v))}`);
    assert.equal(profile.model, 'slow');
    assert.equal(profile.version, 1n);
    assert.equal(profile.source, 'profiled');
    assert.ok(profile.trials >= 1 && profile.throughput > 0 && profile.p95Ms > 0);
    assert.ok([1, 8].includes(profile.batchSize), `batch size ${profile.batchSize}`);
    assert.ok(profile.intraOpThreads * profile.instances <= availableParallelism(), 'never more threads than cores');
    assert.equal(profile.provider, 'cpu');
    assert.deepEqual(await cluster.predict('slow', 41), ['1', 42]);
  });
});
