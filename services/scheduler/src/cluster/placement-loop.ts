import { ModelVersionStatus_State as State } from '@maas/protos';
import type { ClusterState, ScalingStatus, WorkerReport } from '@maas/cluster-state';
import { ClusterScaler } from '../scaling/cluster-scaler.js';
import { modelsOnGpu, workerKind } from '../scaling/fleet-shortage.js';
import { LoadFailures } from '../scaling/load-failures.js';
import { RuntimePreferences } from '../scaling/runtime-preference.js';
import { placeModels, type PlacementModel, type PlacementWorker } from './placement.js';
import { startingAssignments } from './placement-rebuild.js';
import type { WorkerView } from './worker-view.js';

/** Memory assumed for a model no worker has loaded yet. */
const UNMEASURED_MODEL_BYTES = 128 * 1024 * 1024;
/** Share of a worker's memory that models may fill; the rest is the process and its requests. */
const MODEL_MEMORY_SHARE = 0.7;
/** Cold-start demand older than this is dropped from Redis. */
const DEMAND_MEMORY_MS = 600_000;

/** The largest measured memory of a loaded replica (host, or GPU where it runs on one), or undefined before any was measured. */
function measured(workers: readonly WorkerReport[], model: string, field: 'memoryBytes' | 'gpuMemoryBytes'): number | undefined {
  let most: number | undefined;
  for (const w of workers) {
    for (const v of w.models.find((m) => m.name === model)?.versions ?? []) if (v.state === State.AVAILABLE && v[field] > 0) most = Math.max(most ?? 0, v[field]);
  }
  return most;
}

/** What placement may fill on a worker's GPUs: a share of their total, unbounded when the size is unknown (no driver report). */
function gpuBudget(report: WorkerReport): number | undefined {
  if (workerKind(report) !== 'gpu') return undefined;
  return report.capacity.gpuMemoryBytes > 0 ? report.capacity.gpuMemoryBytes * MODEL_MEMORY_SHARE : Infinity;
}

/**
 * Runs placement on the scheduler that holds the Redis lease (several schedulers may run; one
 * places, all route). Each round reads the catalogue and live workers, computes assignments and
 * writes them when they changed; workers follow their own assignment.
 */
export class PlacementLoop {
  private timer?: NodeJS.Timeout;
  private leading = false;
  lastUnplaced: Record<string, number> = {};
  /** The last round's scaling verdict (also in Redis for DescribeCluster); maas_workers_wanted follows it. */
  lastScaling?: ScalingStatus;

  constructor(
    private readonly id: string,
    private readonly state: ClusterState,
    private readonly view: WorkerView,
    private readonly periodMs: number,
    private readonly log: (message: string) => void,
    private readonly scaler = new ClusterScaler(),
    private readonly failures = new LoadFailures(),
    private readonly preferences = new RuntimePreferences(),
  ) {}

  start(): void {
    const loop = () => {
      this.timer = setTimeout(() => void this.round().catch((e: Error) => this.log(`placement round failed: ${e.message}`)).finally(loop), this.periodMs);
    };
    loop();
  }

  async round(): Promise<void> {
    const leading = await this.state.holdLease(this.id, this.periodMs * 3);
    if (leading !== this.leading) this.log(leading ? 'took the placement lease' : 'lost the placement lease');
    this.leading = leading;
    const stored = this.view.storedCatalog;
    if (!leading || !stored) return;
    const workers = this.view.workers.filter((w) => !w.draining);
    const now = Date.now();
    void this.preferences.refresh(stored.revision, [...this.view.catalog.values()]);
    this.failures.observe(this.view.workers, now);
    const onGpu = modelsOnGpu(this.view.workers);
    const models: PlacementModel[] = [...this.view.catalog.values()].map((entry) => {
      const memoryBytes = measured(this.view.workers, entry.name, 'memoryBytes') ?? UNMEASURED_MODEL_BYTES;
      const prefersGpu = onGpu.has(entry.name) || this.preferences.prefersGpu(entry.name);
      return {
        name: entry.name,
        replicas: stored.replicas[entry.name] ?? { min: 1, max: 1 },
        memoryBytes,
        prefersGpu,
        // Before a GPU load was measured (or without a driver to measure it), its host size is the estimate.
        gpuMemoryBytes: prefersGpu ? (measured(this.view.workers, entry.name, 'gpuMemoryBytes') ?? memoryBytes) : 0,
      };
    });
    const placementWorkers: PlacementWorker[] = workers.map((w) => ({
      id: w.id,
      budgetBytes: w.capacity.memoryBytes * MODEL_MEMORY_SHARE,
      gpuBudgetBytes: gpuBudget(w),
      lastUsedAt: Object.fromEntries(w.models.map((m) => [m.name, m.lastUsedAt])),
      failed: this.failures.on(w.id),
    }));
    const written = await this.state.assignments(workers.map((w) => w.id));
    // After a Redis restart or flush, what workers report holding since is the best record of where models are.
    const unwritten = workers.some((w) => written[w.id] === undefined);
    const reported = new Map(unwritten ? (await this.state.liveWorkers()).map((r) => [r.id, r]) : []);
    const current = startingAssignments(workers.map((w) => w.id), written, reported);
    if (!current) return;
    const decisions = this.scaler.plan(models, this.view.workers, current, await this.state.demandSince(now - DEMAND_MEMORY_MS), now);
    const { assignments, unplaced } = placeModels(models, placementWorkers, current);
    for (const w of this.view.workers.filter((w) => w.draining)) assignments[w.id] = [];
    this.lastUnplaced = unplaced;
    const budgets = new Map(placementWorkers.map((w) => [w.id, w.budgetBytes]));
    this.lastScaling = this.scaler.status(models, decisions, workers.map((report) => ({ report, budgetBytes: budgets.get(report.id)! })), assignments, unplaced, now, this.failures.describe());
    await this.state.writeScalingStatus(this.lastScaling, this.periodMs * 3);
    const changed = Object.keys(assignments).some((id) => JSON.stringify(assignments[id]) !== JSON.stringify(written[id]));
    if (changed) {
      await this.state.writeAssignments(assignments);
      this.log(`placement: ${Object.entries(assignments).map(([id, names]) => `${id.slice(0, 8)}=[${names.join(',')}]`).join(' ')}`);
    }
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
