import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Assignments, ReplicaRange } from '@maas/cluster-state';
import { placeModels, wantedReplicas, type PlacementModel, type PlacementResult, type PlacementWorker } from '../../services/scheduler/src/cluster/placement.js';

/**
 * The placement rules written the slow, obvious way (every worker sorted for every copy, memory
 * summed afresh): the oracle the incremental placeModels must agree with, decision for decision.
 */
function referencePlacement(models: readonly PlacementModel[], workers: readonly PlacementWorker[], current: Assignments): PlacementResult {
  const byName = new Map(models.map((m) => [m.name, m]));
  const failed = (w: PlacementWorker, name: string) => w.failed?.has(name) === true;
  const held = new Map(workers.map((w) => [w.id, new Set((current[w.id] ?? []).filter((name) => byName.has(name) && !failed(w, name)))]));
  const inUse = new Map(workers.map((w) => [w.id, held.get(w.id)!.size > 0]));
  const hasGpu = (w: PlacementWorker) => w.gpuBudgetBytes !== undefined;
  const gpuOf = (m: PlacementModel, w: PlacementWorker) => (m.prefersGpu && hasGpu(w) ? (m.gpuMemoryBytes ?? 0) : 0);
  const used = (w: PlacementWorker) => [...held.get(w.id)!].reduce((sum, name) => sum + byName.get(name)!.memoryBytes, 0);
  const free = (w: PlacementWorker) => w.budgetBytes - used(w);
  const gpuFree = (w: PlacementWorker) => (w.gpuBudgetBytes ?? 0) - [...held.get(w.id)!].reduce((sum, name) => sum + gpuOf(byName.get(name)!, w), 0);
  const wrongKind = (m: PlacementModel, w: PlacementWorker) => (hasGpu(w) !== (m.prefersGpu === true) ? 1 : 0);
  const unplaced: Record<string, number> = {};
  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    const wanted = model.wanted ?? wantedReplicas(model.replicas, workers.length);
    const want = Math.min(wanted, workers.length);
    if (wanted > want) unplaced[model.name] = wanted - want;
    const holders = () => workers.filter((w) => held.get(w.id)!.has(model.name));
    for (let surplus = holders().length - want; surplus > 0; surplus--) {
      const first = holders().sort((a, b) => wrongKind(model, b) - wrongKind(model, a) || held.get(a.id)!.size - held.get(b.id)!.size || free(a) - free(b))[0]!;
      held.get(first.id)!.delete(model.name);
    }
    for (let missing = want - holders().length; missing > 0; missing--) {
      const rank = (w: PlacementWorker) => 2 * wrongKind(model, w) + (inUse.get(w.id) ? 0 : 1);
      const options = workers.filter((w) => !held.get(w.id)!.has(model.name) && !failed(w, model.name)).sort((a, b) => rank(a) - rank(b) || free(b) - free(a));
      let target = options.find((w) => free(w) >= model.memoryBytes && gpuFree(w) >= gpuOf(model, w));
      const victim = options.find((w) => model.memoryBytes <= w.budgetBytes && gpuOf(model, w) <= (w.gpuBudgetBytes ?? 0));
      if (!target && victim) {
        const names = held.get(victim.id)!;
        const hostShort = () => free(victim) < model.memoryBytes;
        const gpuShort = () => gpuFree(victim) < gpuOf(model, victim);
        for (const name of [...names].sort((a, b) => (victim.lastUsedAt[a] ?? 0) - (victim.lastUsedAt[b] ?? 0))) {
          if (!hostShort() && !gpuShort()) break;
          if (hostShort() || gpuOf(byName.get(name)!, victim) > 0) names.delete(name);
        }
        if (!hostShort() && !gpuShort()) target = victim;
      }
      if (!target) {
        unplaced[model.name] = (unplaced[model.name] ?? 0) + missing;
        break;
      }
      held.get(target.id)!.add(model.name);
    }
  }
  return { assignments: Object.fromEntries([...held].map(([id, names]) => [id, [...names].sort()])), unplaced };
}

const range = (min: number, max: number): ReplicaRange => ({ min, max });

const scenario = fc
  .record({
    models: fc.uniqueArray(
      fc.record({
        name: fc.stringMatching(/^[a-e]{1,3}$/),
        memoryBytes: fc.integer({ min: 1, max: 60 }),
        min: fc.integer({ min: 0, max: 4 }),
        extra: fc.integer({ min: 0, max: 3 }),
        wanted: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
        prefersGpu: fc.boolean(),
        gpuMemoryBytes: fc.option(fc.integer({ min: 0, max: 60 }), { nil: undefined }),
      }),
      { selector: (m) => m.name, maxLength: 14 },
    ),
    workers: fc.array(
      fc.record({
        budgetBytes: fc.integer({ min: 0, max: 150 }),
        gpuBudgetBytes: fc.oneof(fc.constant(undefined), fc.integer({ min: 0, max: 150 }), fc.constant(Infinity)),
        used: fc.dictionary(fc.stringMatching(/^[a-e]{1,3}$/), fc.integer({ min: 0, max: 100 })),
        failed: fc.array(fc.stringMatching(/^[a-e]{1,3}$/), { maxLength: 2 }),
      }),
      { maxLength: 6 },
    ),
    placedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer(),
  })
  .map(({ models, workers, placedShare, seed }) => {
    let state = seed >>> 0;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const placementModels: PlacementModel[] = models.map((m) => ({
      name: m.name,
      replicas: range(m.min, m.min + m.extra),
      memoryBytes: m.memoryBytes,
      wanted: m.wanted,
      prefersGpu: m.prefersGpu,
      gpuMemoryBytes: m.gpuMemoryBytes,
    }));
    const placementWorkers: PlacementWorker[] = workers.map((w, i) => ({ id: `w${i}`, budgetBytes: w.budgetBytes, gpuBudgetBytes: w.gpuBudgetBytes, lastUsedAt: w.used, failed: new Set(w.failed) }));
    const current: Assignments = {};
    for (const w of placementWorkers) current[w.id] = [...models.filter(() => random() < placedShare).map((m) => m.name), ...(random() < 0.2 ? ['gone'] : [])];
    return { placementModels, placementWorkers, current };
  });

describe('placement', () => {
  test('the incremental placeModels makes the same decisions as the reference algorithm', () => {
    fc.assert(
      fc.property(scenario, ({ placementModels, placementWorkers, current }) => {
        assert.deepEqual(placeModels(placementModels, placementWorkers, current), referencePlacement(placementModels, placementWorkers, current));
      }),
      { numRuns: 2000 },
    );
  });

  test('wanted 0 removes every copy (scale to zero); without wanted a model keeps one', () => {
    const workers: PlacementWorker[] = [0, 1].map((i) => ({ id: `w${i}`, budgetBytes: 100, lastUsedAt: {} }));
    const current = { w0: ['a', 'b'], w1: ['a'] };
    const result = placeModels(
      [
        { name: 'a', replicas: range(0, 2), memoryBytes: 10, wanted: 0 },
        { name: 'b', replicas: range(0, 2), memoryBytes: 10 },
      ],
      workers,
      current,
    );
    assert.deepEqual(result.assignments, { w0: ['b'], w1: [] });
    assert.deepEqual(result.unplaced, {});
  });

  test('copies wanted beyond one per worker, and copies that fit nowhere, are reported unplaced', () => {
    const workers: PlacementWorker[] = [0, 1].map((i) => ({ id: `w${i}`, budgetBytes: 100, lastUsedAt: {} }));
    const result = placeModels(
      [
        { name: 'a', replicas: range(1, 5), memoryBytes: 10, wanted: 5 },
        { name: 'huge', replicas: range(1, 1), memoryBytes: 500, wanted: 1 },
      ],
      workers,
      {},
    );
    assert.deepEqual(result.assignments, { w0: ['a'], w1: ['a'] });
    assert.deepEqual(result.unplaced, { a: 3, huge: 1 });
  });

  describe('with GPU workers', () => {
    const cpu = (id: string, budgetBytes = 100): PlacementWorker => ({ id, budgetBytes, lastUsedAt: {} });
    const gpu = (id: string, gpuBudgetBytes: number, budgetBytes = 100): PlacementWorker => ({ id, budgetBytes, gpuBudgetBytes, lastUsedAt: {} });
    const onGpu = (name: string, gpuMemoryBytes: number, wanted = 1): PlacementModel => ({ name, replicas: range(0, 4), memoryBytes: 10, prefersGpu: true, gpuMemoryBytes, wanted });
    const onCpu = (name: string, wanted = 1): PlacementModel => ({ name, replicas: range(0, 4), memoryBytes: 10, wanted });

    test('GPU models go to GPU workers and CPU models to CPU workers when both fit', () => {
      const result = placeModels([onGpu('big', 5), onCpu('small')], [cpu('c0'), gpu('g0', 50)], {});
      assert.deepEqual(result.assignments, { c0: ['small'], g0: ['big'] });
    });

    test('never onto a GPU without room for the model, even with host memory to spare: another GPU, else a CPU worker, else unplaced', () => {
      // Both 30-byte models fit g0's host memory, but its GPU holds one of them.
      const packed = placeModels([onGpu('a', 30), onGpu('b', 30)], [gpu('g0', 50), gpu('g1', 50, 20)], {});
      assert.deepEqual(packed.assignments, { g0: ['a'], g1: ['b'] });
      const toCpu = placeModels([onGpu('a', 30), onGpu('b', 30)], [gpu('g0', 50), cpu('c0')], {});
      assert.deepEqual(toCpu.assignments, { c0: ['b'], g0: ['a'] });
      const nowhere = placeModels([onGpu('huge', 80)], [gpu('g0', 50)], {});
      assert.deepEqual(nowhere, { assignments: { g0: [] }, unplaced: { huge: 1 } });
    });

    test('a GPU of unknown size (Infinity) takes any GPU model; a CPU model uses no GPU memory', () => {
      const result = placeModels([onGpu('a', 1e12), onCpu('b'), onGpu('c', 40)], [gpu('g0', Infinity), gpu('g1', 40)], {});
      assert.deepEqual(result.assignments, { g0: ['a', 'c'], g1: ['b'] });
      assert.deepEqual(result.unplaced, {});
    });

    test('to make GPU room, only models that run on the GPU are evicted (least recently used first)', () => {
      const workers = [{ ...gpu('g0', 50, 40), lastUsedAt: { cpuModel: 1, old: 2, recent: 3 } }];
      // 'young' is placed last (name order), so the models it evicts are not placed again this round.
      const result = placeModels([onCpu('cpuModel'), onGpu('old', 20), onGpu('recent', 20), onGpu('young', 20)], workers, { g0: ['cpuModel', 'old', 'recent'] });
      assert.deepEqual(result.assignments, { g0: ['cpuModel', 'recent', 'young'] });
    });

    test('a model that failed to load on a worker is moved to another one, or reported unplaced', () => {
      const failedOn = (w: PlacementWorker, ...names: string[]) => ({ ...w, failed: new Set(names) });
      const moved = placeModels([onGpu('m', 10)], [failedOn(gpu('g0', 50), 'm'), gpu('g1', 50)], { g0: ['m'] });
      assert.deepEqual(moved, { assignments: { g0: [], g1: ['m'] }, unplaced: {} });
      const nowhere = placeModels([onGpu('m', 10)], [failedOn(gpu('g0', 50), 'm')], { g0: ['m'] });
      assert.deepEqual(nowhere, { assignments: { g0: [] }, unplaced: { m: 1 } });
    });
  });

  describe('consolidation', () => {
    const workers: PlacementWorker[] = [0, 1, 2].map((i) => ({ id: `w${i}`, budgetBytes: 100, lastUsedAt: {} }));
    const model = (name: string, wanted: number): PlacementModel => ({ name, replicas: range(0, 3), memoryBytes: 10, wanted });

    test('a scale-down removes copies from the workers holding the fewest models, so they empty out', () => {
      const result = placeModels([model('a', 1), model('b', 1)], workers, { w0: ['a', 'b'], w1: ['a'], w2: ['a'] });
      assert.deepEqual(result.assignments, { w0: ['a', 'b'], w1: [], w2: [] });
    });

    test('new copies go to workers in use before empty ones, which stay removable; a fresh fleet still spreads', () => {
      const grown = placeModels([model('a', 1), model('b', 1), model('c', 2)], workers, { w0: ['a'], w1: [], w2: ['b'] });
      assert.deepEqual(grown.assignments, { w0: ['a', 'c'], w1: [], w2: ['b', 'c'] });
      const fresh = placeModels([model('a', 1), model('b', 1), model('c', 1)], workers, {});
      assert.deepEqual(fresh.assignments, { w0: ['a'], w1: ['b'], w2: ['c'] });
    });
  });
});
