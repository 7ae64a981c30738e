import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { Assignments, ReplicaRange } from '@maas/cluster-state';
import { placeModels, wantedReplicas, type PlacementModel, type PlacementResult, type PlacementWorker } from '../../services/scheduler/src/cluster/placement.js';

/**
 * The placement algorithm as it was before it was made incremental (sorting every worker for every
 * copy): the oracle the fast version must agree with, decision for decision.
 */
function referencePlacement(models: readonly PlacementModel[], workers: readonly PlacementWorker[], current: Assignments): PlacementResult {
  const byName = new Map(models.map((m) => [m.name, m]));
  const held = new Map(workers.map((w) => [w.id, new Set((current[w.id] ?? []).filter((name) => byName.has(name)))]));
  const used = (id: string) => [...held.get(id)!].reduce((sum, name) => sum + byName.get(name)!.memoryBytes, 0);
  const free = (w: PlacementWorker) => w.budgetBytes - used(w.id);
  const unplaced: Record<string, number> = {};
  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    const wanted = model.wanted ?? wantedReplicas(model.replicas, workers.length);
    const want = Math.min(wanted, workers.length);
    if (wanted > want) unplaced[model.name] = wanted - want;
    const holders = () => workers.filter((w) => held.get(w.id)!.has(model.name));
    for (let surplus = holders().length - want; surplus > 0; surplus--) {
      const fullest = holders().sort((a, b) => free(a) - free(b))[0]!;
      held.get(fullest.id)!.delete(model.name);
    }
    for (let missing = want - holders().length; missing > 0; missing--) {
      const options = workers.filter((w) => !held.get(w.id)!.has(model.name)).sort((a, b) => free(b) - free(a));
      let target = options.find((w) => free(w) >= model.memoryBytes);
      const emptiest = options[0];
      if (!target && emptiest && model.memoryBytes <= emptiest.budgetBytes) {
        const names = held.get(emptiest.id)!;
        for (const name of [...names].sort((a, b) => (emptiest.lastUsedAt[a] ?? 0) - (emptiest.lastUsedAt[b] ?? 0))) {
          if (free(emptiest) >= model.memoryBytes) break;
          names.delete(name);
        }
        if (free(emptiest) >= model.memoryBytes) target = emptiest;
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
      fc.record({ name: fc.stringMatching(/^[a-e]{1,3}$/), memoryBytes: fc.integer({ min: 1, max: 60 }), min: fc.integer({ min: 0, max: 4 }), extra: fc.integer({ min: 0, max: 3 }), wanted: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) }),
      { selector: (m) => m.name, maxLength: 14 },
    ),
    workers: fc.array(fc.record({ budgetBytes: fc.integer({ min: 0, max: 150 }), used: fc.dictionary(fc.stringMatching(/^[a-e]{1,3}$/), fc.integer({ min: 0, max: 100 })) }), { maxLength: 6 }),
    placedShare: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer(),
  })
  .map(({ models, workers, placedShare, seed }) => {
    let state = seed >>> 0;
    const random = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const placementModels: PlacementModel[] = models.map((m) => ({ name: m.name, replicas: range(m.min, m.min + m.extra), memoryBytes: m.memoryBytes, wanted: m.wanted }));
    const placementWorkers: PlacementWorker[] = workers.map((w, i) => ({ id: `w${i}`, budgetBytes: w.budgetBytes, lastUsedAt: w.used }));
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
});
