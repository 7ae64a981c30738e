import type { Assignments, ReplicaRange } from '@maas/cluster-state';
import { FreeMemoryHeap } from './free-memory-heap.js';

export interface PlacementModel {
  name: string;
  replicas: ReplicaRange;
  /** Measured resident memory of one replica (or an estimate before the first load). */
  memoryBytes: number;
  /** Replicas the autoscaler wants (0 allowed: scale to zero); unset: wantedReplicas(replicas). */
  wanted?: number;
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

/** Replicas to keep without an autoscaler: at least one, at most one per worker. */
export function wantedReplicas(range: ReplicaRange, workerCount: number): number {
  return Math.min(Math.max(1, range.min), Math.max(1, range.max), workerCount);
}

const byLocale = new Intl.Collator().compare;

/**
 * Models in name order (as localeCompare sorts them). Rounds see the same catalogue again and
 * again and collation is most of a round's cost at 10,000 models, so the last order is reused
 * while the names are the same.
 */
let lastOrder: { names: string[]; order: number[] } | undefined;
function nameOrder(models: readonly PlacementModel[]): number[] {
  const last = lastOrder;
  if (last && last.names.length === models.length && models.every((m, i) => m.name === last.names[i])) return last.order;
  const order = models.map((_, i) => i).sort((a, b) => byLocale(models[a]!.name, models[b]!.name));
  lastOrder = { names: models.map((m) => m.name), order };
  return order;
}

/**
 * Decides which worker holds which model. Keeps what is placed where it can (moving a model costs
 * a load), removes surplus copies from the fullest workers, and adds missing copies to the worker
 * with the most free memory that does not hold one yet (copies spread across workers). When no
 * worker has room, the least recently used model on the emptiest worker is evicted. Pure, so the
 * simulator and tests drive the same code the scheduler runs. A model's `wanted` (the autoscaler's
 * count, 0 allowed) replaces wantedReplicas(range); copies beyond one per worker count as unplaced.
 *
 * Bookkeeping is incremental (memory used per worker, holders per model, a heap of workers by free
 * memory) so 10,000 models on 1,000 workers place in well under a second; ties break as a stable
 * sort of the worker list would.
 */
export function placeModels(models: readonly PlacementModel[], workers: readonly PlacementWorker[], current: Assignments): PlacementResult {
  const byName = new Map(models.map((m) => [m.name, m]));
  const held = workers.map((w) => new Set((current[w.id] ?? []).filter((name) => byName.has(name))));
  // Memory used is summed, and free derived from it, exactly as a fresh sum would give (ties stay ties).
  const used = new Float64Array(workers.length);
  const free = new Float64Array(workers.length);
  const holders = new Map<string, Set<number>>();
  workers.forEach((w, i) => {
    for (const name of held[i]!) {
      used[i]! += byName.get(name)!.memoryBytes;
      let set = holders.get(name);
      if (!set) holders.set(name, (set = new Set()));
      set.add(i);
    }
    free[i] = w.budgetBytes - used[i]!;
  });
  const heap = new FreeMemoryHeap(free);
  const change = (worker: number, name: string, adding: boolean) => {
    const bytes = byName.get(name)!.memoryBytes;
    let set = holders.get(name);
    if (!set) holders.set(name, (set = new Set()));
    if (adding) {
      held[worker]!.add(name);
      set.add(worker);
      used[worker]! += bytes;
    } else {
      held[worker]!.delete(name);
      set.delete(worker);
      used[worker]! -= bytes;
    }
    free[worker] = workers[worker]!.budgetBytes - used[worker]!;
    heap.update(worker);
  };
  const unplaced: Record<string, number> = {};

  for (const index of nameOrder(models)) {
    const model = models[index]!;
    const wanted = model.wanted ?? wantedReplicas(model.replicas, workers.length);
    const want = Math.min(wanted, workers.length);
    if (wanted > want) unplaced[model.name] = wanted - want;
    const mine = holders.get(model.name) ?? new Set<number>();
    for (let surplus = mine.size - want; surplus > 0; surplus--) {
      change(fullest(mine, free), model.name, false);
    }
    for (let missing = want - mine.size; missing > 0; missing--) {
      const option = heap.best((i) => held[i]!.has(model.name));
      const target =
        option !== undefined && free[option]! >= model.memoryBytes
          ? option
          : evictFor(model, option, workers, held, free, (i, name) => change(i, name, false));
      if (target === undefined) {
        unplaced[model.name] = (unplaced[model.name] ?? 0) + missing;
        break;
      }
      change(target, model.name, true);
    }
  }
  return { assignments: Object.fromEntries(workers.map((w, i) => [w.id, [...held[i]!].sort()])), unplaced };
}

/** The holder with the least free memory (lowest index on ties). */
function fullest(holders: ReadonlySet<number>, free: Float64Array): number {
  let best = -1;
  for (const i of holders) if (best < 0 || free[i]! < free[best]! || (free[i] === free[best] && i < best)) best = i;
  return best;
}

/** Evicts least recently used models from one worker until `model` fits; undefined if it never will. */
function evictFor(
  model: PlacementModel,
  worker: number | undefined,
  workers: readonly PlacementWorker[],
  held: ReadonlyArray<Set<string>>,
  free: Float64Array,
  remove: (worker: number, name: string) => void,
): number | undefined {
  if (worker === undefined || model.memoryBytes > workers[worker]!.budgetBytes) return undefined;
  const lastUsedAt = workers[worker]!.lastUsedAt;
  const byAge = [...held[worker]!].sort((a, b) => (lastUsedAt[a] ?? 0) - (lastUsedAt[b] ?? 0));
  for (const name of byAge) {
    if (free[worker]! >= model.memoryBytes) break;
    remove(worker, name);
  }
  return free[worker]! >= model.memoryBytes ? worker : undefined;
}
