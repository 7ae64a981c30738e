import type { Assignments, ReplicaRange } from '@maas/cluster-state';
import { FreeMemoryHeap } from './free-memory-heap.js';

export interface PlacementModel {
  name: string;
  replicas: ReplicaRange;
  /** Measured resident memory of one replica (or an estimate before the first load). */
  memoryBytes: number;
  /** Replicas the autoscaler wants (0 allowed: scale to zero); unset: wantedReplicas(replicas). */
  wanted?: number;
  /**
   * Runs on a GPU provider where the worker has one (its runtime config or profile chose one):
   * placed on GPU workers first, and there it needs `gpuMemoryBytes` of GPU memory.
   */
  prefersGpu?: boolean;
  /** GPU memory of one replica on a GPU worker (measured, or an estimate); counts only where it runs on the GPU. */
  gpuMemoryBytes?: number;
}

export interface PlacementWorker {
  id: string;
  /** Memory this worker may fill with models. */
  budgetBytes: number;
  /** GPU memory models may fill; undefined on a worker without a GPU provider (Infinity: a GPU of unknown size). */
  gpuBudgetBytes?: number;
  /** Epoch ms a model was last used on this worker, for least-recently-used eviction. */
  lastUsedAt: Record<string, number>;
  /** Models that failed to load here (e.g. out of memory): never placed here, and dropped if held. */
  failed?: ReadonlySet<string>;
}

export interface PlacementResult {
  assignments: Assignments;
  /** Replicas wanted but not placed, per model (nothing fits): the signal for adding workers. */
  unplaced: Record<string, number>;
}

/** Whether a replica of `model` on `worker` uses the worker's GPU (and so its GPU memory). */
export function runsOnGpu(model: Pick<PlacementModel, 'prefersGpu'>, worker: Pick<PlacementWorker, 'gpuBudgetBytes'>): boolean {
  return model.prefersGpu === true && worker.gpuBudgetBytes !== undefined;
}

/**
 * Preference class of a worker for a model, lower first: workers of the kind the model wants (GPU
 * for a GPU model, CPU for the rest) before the other kind, and within a kind, workers already in
 * use (holding a model when the round began) before empty ones, so idle workers stay empty and
 * can be removed (consolidation). Fresh clusters, where every worker is empty, still spread.
 */
export function preferenceClass(model: Pick<PlacementModel, 'prefersGpu'>, worker: Pick<PlacementWorker, 'gpuBudgetBytes'>, inUse: boolean): number {
  const kindMatches = (worker.gpuBudgetBytes !== undefined) === (model.prefersGpu === true);
  return (kindMatches ? 0 : 2) + (inUse ? 0 : 1);
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
 * Decides which worker holds which model, packing two dimensions: host memory on every worker and
 * GPU memory on GPU workers for models that run on the GPU (a model never goes to a GPU that cannot
 * hold it). Keeps what is placed where it can (moving a model costs a load) except on a worker where
 * it failed to load; removes surplus copies first from workers of the wrong kind, then from the
 * workers holding the fewest models (so they empty out), then the fullest. A missing copy goes to
 * the best preference class (preferenceClass: right kind, then in use) with room, and there to the
 * worker with the most free memory that does not hold one yet (copies spread across workers). When
 * no worker has room, least recently used models are evicted from the first worker, in that order,
 * that could hold the model. Pure, so the simulator and tests drive the same code the scheduler
 * runs. A model's `wanted` (the autoscaler's count, 0 allowed) replaces wantedReplicas(range);
 * copies beyond one per worker count as unplaced.
 *
 * Bookkeeping is incremental (memory used per worker, holders per model, a heap of workers by free
 * memory per preference class) so 10,000 models on 1,000 workers place in well under a second; ties
 * break as a stable sort of the worker list would.
 */
export function placeModels(models: readonly PlacementModel[], workers: readonly PlacementWorker[], current: Assignments): PlacementResult {
  const byName = new Map(models.map((m) => [m.name, m]));
  const failedHere = (worker: number, name: string) => workers[worker]!.failed?.has(name) === true;
  const held = workers.map((w, i) => new Set((current[w.id] ?? []).filter((name) => byName.has(name) && !failedHere(i, name))));
  const gpuBytes = (model: PlacementModel, worker: number) => (runsOnGpu(model, workers[worker]!) ? (model.gpuMemoryBytes ?? 0) : 0);
  // Memory used is summed, and free derived from it, exactly as a fresh sum would give (ties stay ties).
  const used = new Float64Array(workers.length);
  const free = new Float64Array(workers.length);
  const gpuUsed = new Float64Array(workers.length);
  const holders = new Map<string, Set<number>>();
  workers.forEach((w, i) => {
    for (const name of held[i]!) {
      const model = byName.get(name)!;
      used[i]! += model.memoryBytes;
      gpuUsed[i]! += gpuBytes(model, i);
      let set = holders.get(name);
      if (!set) holders.set(name, (set = new Set()));
      set.add(i);
    }
    free[i] = w.budgetBytes - used[i]!;
  });
  // Heaps by kind (gpu?) and use at the round's start; the class of a worker never changes within a round.
  // Indexed by the class a CPU model gives a worker: cpu in use, cpu empty, gpu in use, gpu empty.
  const heapOf = held.map((names, i) => preferenceClass({ prefersGpu: false }, workers[i]!, names.size > 0));
  const members: number[][] = [[], [], [], []];
  heapOf.forEach((heap, i) => members[heap]!.push(i));
  const heaps = members.map((m) => new FreeMemoryHeap(free, m));
  /** Heaps in a model's order of preference (preferenceClass): CPU models cpu in use, cpu empty, gpu in use, gpu empty; GPU models gpu first. */
  const heapsFor = (model: PlacementModel) => (model.prefersGpu ? [heaps[2]!, heaps[3]!, heaps[0]!, heaps[1]!] : heaps);
  const gpuFree = (worker: number) => (workers[worker]!.gpuBudgetBytes ?? 0) - gpuUsed[worker]!;
  const change = (worker: number, name: string, adding: boolean) => {
    const model = byName.get(name)!;
    let set = holders.get(name);
    if (!set) holders.set(name, (set = new Set()));
    const sign = adding ? 1 : -1;
    if (adding) {
      held[worker]!.add(name);
      set.add(worker);
    } else {
      held[worker]!.delete(name);
      set.delete(worker);
    }
    used[worker]! += sign * model.memoryBytes;
    gpuUsed[worker]! += sign * gpuBytes(model, worker);
    free[worker] = workers[worker]!.budgetBytes - used[worker]!;
    heaps[heapOf[worker]!]!.update(worker);
  };
  const unplaced: Record<string, number> = {};

  for (const index of nameOrder(models)) {
    const model = models[index]!;
    const wanted = model.wanted ?? wantedReplicas(model.replicas, workers.length);
    const want = Math.min(wanted, workers.length);
    if (wanted > want) unplaced[model.name] = wanted - want;
    const mine = holders.get(model.name) ?? new Set<number>();
    for (let surplus = mine.size - want; surplus > 0; surplus--) {
      change(leastWanted(model, mine, workers, held, free), model.name, false);
    }
    const unavailable = (i: number) => held[i]!.has(model.name) || failedHere(i, model.name);
    const gpuFits = (i: number) => gpuBytes(model, i) <= gpuFree(i);
    for (let missing = want - mine.size; missing > 0; missing--) {
      let target: number | undefined;
      for (const heap of heapsFor(model)) {
        const option = heap.best((i) => unavailable(i) || !gpuFits(i));
        if (option !== undefined && free[option]! >= model.memoryBytes) {
          target = option;
          break;
        }
      }
      target ??= evictFor(model, heapsFor(model), unavailable, { workers, byName, held, free, gpuFree, gpuBytes }, (i, name) => change(i, name, false));
      if (target === undefined) {
        unplaced[model.name] = (unplaced[model.name] ?? 0) + missing;
        break;
      }
      change(target, model.name, true);
    }
  }
  return { assignments: Object.fromEntries(workers.map((w, i) => [w.id, [...held[i]!].sort()])), unplaced };
}

/** The copy to remove first: on a worker of the wrong kind, then holding the fewest models, then with the least free memory, then the lowest index. */
function leastWanted(model: PlacementModel, holders: ReadonlySet<number>, workers: readonly PlacementWorker[], held: ReadonlyArray<Set<string>>, free: Float64Array): number {
  const key = (i: number) => [-preferenceClass(model, workers[i]!, true), held[i]!.size, free[i]!, i];
  let best = -1;
  let bestKey: number[] = [];
  for (const i of holders) {
    const k = key(i);
    if (best < 0 || lexicallyBefore(k, bestKey)) [best, bestKey] = [i, k];
  }
  return best;
}

function lexicallyBefore(a: readonly number[], b: readonly number[]): boolean {
  for (let j = 0; j < a.length; j++) if (a[j] !== b[j]) return a[j]! < b[j]!;
  return false;
}

interface EvictionView {
  workers: readonly PlacementWorker[];
  byName: ReadonlyMap<string, PlacementModel>;
  held: ReadonlyArray<Set<string>>;
  free: Float64Array;
  gpuFree: (worker: number) => number;
  gpuBytes: (model: PlacementModel, worker: number) => number;
}

/**
 * No worker has room: evicts least recently used models from the first worker (in preference order)
 * that could hold `model` at all, until it fits in both dimensions (a model that frees neither
 * dimension still short is kept); undefined if no worker could hold it.
 */
function evictFor(
  model: PlacementModel,
  heaps: readonly FreeMemoryHeap[],
  unavailable: (worker: number) => boolean,
  { workers, byName, held, free, gpuFree, gpuBytes }: EvictionView,
  remove: (worker: number, name: string) => void,
): number | undefined {
  const couldHold = (i: number) => model.memoryBytes <= workers[i]!.budgetBytes && gpuBytes(model, i) <= (workers[i]!.gpuBudgetBytes ?? 0);
  let worker: number | undefined;
  for (const heap of heaps) if ((worker = heap.best((i) => unavailable(i) || !couldHold(i))) !== undefined) break;
  if (worker === undefined) return undefined;
  const at = worker;
  const hostShort = () => free[at]! < model.memoryBytes;
  const gpuShort = () => gpuFree(at) < gpuBytes(model, at);
  const lastUsedAt = workers[at]!.lastUsedAt;
  const byAge = [...held[at]!].sort((a, b) => (lastUsedAt[a] ?? 0) - (lastUsedAt[b] ?? 0));
  for (const name of byAge) {
    if (!hostShort() && !gpuShort()) break;
    if (hostShort() || gpuBytes(byName.get(name)!, at) > 0) remove(at, name);
  }
  return hostShort() || gpuShort() ? undefined : at;
}
