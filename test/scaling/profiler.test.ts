import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { defaultBatchingOptions } from '@maas/batching';
import { defaultRuntimeOptions } from '@maas/onnx-runtime';
import { addConstantModel, makeTempDir, writeModelVersion } from '@maas/test-support';
import { batchingFor, profileCandidates, VerticalProfiler, type TuneRequest } from '../../services/worker/src/profiling/index.js';
import { slowAdderModel } from './scaling-harness.js';

const cpuOnly = async () => ['cpu'];

function request(model: Uint8Array, name: string, batching = true): TuneRequest {
  const basePath = join(makeTempDir('maas-profile-'), name);
  const file = writeModelVersion(basePath, 1, model);
  return { file, label: `${name}:1`, basePath, runtime: defaultRuntimeOptions(2), batching: batching ? { options: defaultBatchingOptions(), perModel: false } : undefined };
}

function profiler(overrides: Partial<ConstructorParameters<typeof VerticalProfiler>[0]> = {}) {
  return new VerticalProfiler({ budgetMs: 1500, objectiveMs: 1000, batchSizes: [1, 4, 16], cores: 2, log: () => {}, providers: cpuOnly, ...overrides });
}

describe('vertical profiler (real onnxruntime, bounded budget)', () => {
  test('times candidate configurations and loads the best throughput that meets the objective', async () => {
    const p = profiler();
    const r = request(slowAdderModel(1, 128, 2), 'slow');
    const tuned = await p.tune(r);
    const profile = p.profileOf('slow:1')!;
    assert.equal(profile.source, 'profiled');
    assert.ok(profile.trials.length >= 2, `${profile.trials.length} trials`);
    assert.ok(profile.metObjective);
    const feasible = profile.trials.filter((t) => t.p95Ms <= profile.objectiveMs);
    const best = Math.max(...feasible.map((t) => t.throughput));
    assert.ok(profile.throughput! >= best * 0.95, `chose ${profile.throughput} rows/s, best was ${best}`);
    assert.ok(profile.trials.some((t) => t.batchSize === profile.chosen.batchSize && t.intraOpThreads === profile.chosen.intraOpThreads && t.instances === profile.chosen.instances));
    // What the version is loaded with is the chosen configuration.
    assert.equal(tuned.runtime.intraOpThreads, profile.chosen.intraOpThreads);
    assert.equal(tuned.runtime.instances, profile.chosen.instances);
    assert.deepEqual(tuned.runtime.executionProviders, ['cpu']);
    assert.equal(tuned.batching!.options.maxExecutionBatchSize, profile.chosen.batchSize);
    assert.equal(tuned.batching!.options.maxBatchSize, defaultBatchingOptions().maxBatchSize, 'no request is refused that was accepted before');
  });

  test('an objective nothing meets picks the lowest p95 and says so; a tiny budget measures only the current configuration', async () => {
    const strict = await profiler({ objectiveMs: 1e-6 }).profile(request(slowAdderModel(1, 64, 1), 'strict'));
    assert.equal(strict!.metObjective, false);
    assert.equal(strict!.p95Ms, Math.min(...strict!.trials.map((t) => t.p95Ms)));

    const r = request(slowAdderModel(1, 64, 1), 'hurried');
    const hurried = await profiler({ budgetMs: 1 }).profile(r);
    assert.equal(hurried!.trials.length, 1);
    assert.ok(hurried!.skipped > 0);
    assert.equal(hurried!.trials[0]!.intraOpThreads, r.runtime.intraOpThreads, 'the configuration the worker would use anyway comes first');
  });

  test("a model's runtime.json overrides profiling; without batching only batch 1 is tried; a fixed batch dim is kept", async () => {
    const p = profiler();
    const overridden = request(addConstantModel(1), 'pinned');
    writeFileSync(join(overridden.basePath, 'runtime.json'), JSON.stringify({ intra_op_threads: 1 }));
    const tuned = await p.tune(overridden);
    assert.equal(p.profileOf('pinned:1')!.source, 'override');
    assert.equal(tuned.runtime, overridden.runtime);

    const unbatched = await p.profile(request(addConstantModel(1), 'plain', false));
    assert.deepEqual(new Set(unbatched!.trials.map((t) => t.batchSize)), new Set([1]));
    const fixed = await p.profile(request(addConstantModel(1, [2, 3]), 'fixed'));
    assert.deepEqual(new Set(fixed!.trials.map((t) => t.batchSize)), new Set([2]));
  });

  test('candidates never use more threads than cores, try the current one first, and include a GPU provider only when usable', () => {
    const current = { batchSize: 4, intraOpThreads: 2, instances: 1, provider: 'cpu' };
    const cpu = profileCandidates({ cores: 2, providers: ['cpu'], batchSizes: [1, 4], current });
    assert.deepEqual(cpu[0], current);
    assert.ok(cpu.every((c) => c.intraOpThreads * c.instances <= 2 && c.provider === 'cpu'));
    assert.equal(new Set(cpu.map((c) => JSON.stringify(c))).size, cpu.length, 'no duplicates');
    const gpu = profileCandidates({ cores: 2, providers: ['webgpu', 'cpu'], batchSizes: [1], current });
    assert.ok(gpu.some((c) => c.provider === 'webgpu'));
  });

  test('the chosen batch size caps executed batches by splitting, never by refusing requests', () => {
    const batching = { options: defaultBatchingOptions(), perModel: false };
    const capped = batchingFor(batching, 16);
    assert.equal(capped.options.maxExecutionBatchSize, 16);
    assert.equal(capped.options.enableLargeBatchSplitting, true);
    assert.equal(capped.options.maxBatchSize, 1000);
    assert.equal(batchingFor(batching, 5000), batching, 'larger than what runs now: unchanged');
  });
});
