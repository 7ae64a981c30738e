import type { Assignments, ReplicaRange } from '@maas/cluster-state';

export interface PlacementModel {
  name: string;
  replicas: ReplicaRange;
  /** Measured resident memory of one replica (or an estimate before the first load). */
  memoryBytes: number;
}

export interface PlacementWorker {
  id: string;
  /** Memory this worker may fill with models. */
  budgetBytes: number;
  /** Epoch ms a model was last used on this worker, for least-recently-used eviction. */
  lastUsedAt: Record<string, number>;
}

export interface PlacementResult {
  assignments: Assignments;
  /** Replicas wanted but not placed, per model (nothing fits): the signal for adding workers. */
  unplaced: Record<string, number>;
}

/** Replicas to keep: at least one (scale to zero is the autoscaler's call), at most one per worker. */
export function wantedReplicas(range: ReplicaRange, workerCount: number): number {
  return Math.min(Math.max(1, range.min), Math.max(1, range.max), workerCount);
}

/**
 * Decides which worker holds which model. Keeps what is placed where it can (moving a model costs
 * a load), removes surplus copies from the fullest workers, and adds missing copies to the worker
 * with the most free memory that does not hold one yet (copies spread across workers). When no
 * worker has room, the least recently used model on the emptiest worker is evicted. Pure, so the
 * simulator and tests drive the same code the scheduler runs.
 */
export function placeModels(models: readonly PlacementModel[], workers: readonly PlacementWorker[], current: Assignments): PlacementResult {
  const byName = new Map(models.map((m) => [m.name, m]));
  const held = new Map(workers.map((w) => [w.id, new Set((current[w.id] ?? []).filter((name) => byName.has(name)))]));
  const used = (id: string) => [...held.get(id)!].reduce((sum, name) => sum + byName.get(name)!.memoryBytes, 0);
  const free = (w: PlacementWorker) => w.budgetBytes - used(w.id);
  const unplaced: Record<string, number> = {};

  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) {
    const want = wantedReplicas(model.replicas, workers.length);
    const holders = () => workers.filter((w) => held.get(w.id)!.has(model.name));
    for (let surplus = holders().length - want; surplus > 0; surplus--) {
      const fullest = holders().sort((a, b) => free(a) - free(b))[0]!;
      held.get(fullest.id)!.delete(model.name);
    }
    for (let missing = want - holders().length; missing > 0; missing--) {
      const options = workers.filter((w) => !held.get(w.id)!.has(model.name)).sort((a, b) => free(b) - free(a));
      const target = options.find((w) => free(w) >= model.memoryBytes) ?? evictFor(model, options[0], held, byName, free);
      if (!target) {
        unplaced[model.name] = missing;
        break;
      }
      held.get(target.id)!.add(model.name);
    }
  }
  return { assignments: Object.fromEntries([...held].map(([id, names]) => [id, [...names].sort()])), unplaced };
}

/** Evicts least recently used models from one worker until `model` fits; undefined if it never will. */
function evictFor(
  model: PlacementModel,
  worker: PlacementWorker | undefined,
  held: Map<string, Set<string>>,
  byName: Map<string, PlacementModel>,
  free: (w: PlacementWorker) => number,
): PlacementWorker | undefined {
  if (!worker || model.memoryBytes > worker.budgetBytes) return undefined;
  const names = held.get(worker.id)!;
  const byAge = [...names].sort((a, b) => (worker.lastUsedAt[a] ?? 0) - (worker.lastUsedAt[b] ?? 0));
  for (const name of byAge) {
    if (free(worker) >= model.memoryBytes) break;
    names.delete(name);
  }
  return free(worker) >= model.memoryBytes ? worker : undefined;
}
