import { ModelVersionStatus_State as State } from '@maas/protos';
import type { ClusterState, ScalingStatus, WorkerReport } from '@maas/cluster-state';
import { ClusterScaler } from '../scaling/cluster-scaler.js';
import { placeModels, type PlacementModel, type PlacementWorker } from './placement.js';
import type { WorkerView } from './worker-view.js';

/** Memory assumed for a model no worker has loaded yet. */
const UNMEASURED_MODEL_BYTES = 128 * 1024 * 1024;
/** Share of a worker's memory that models may fill; the rest is the process and its requests. */
const MODEL_MEMORY_SHARE = 0.7;
/** Cold-start demand older than this is dropped from Redis. */
const DEMAND_MEMORY_MS = 600_000;

function measuredBytes(workers: readonly WorkerReport[], model: string): number {
  const sizes = workers.flatMap((w) => w.models.find((m) => m.name === model)?.versions.filter((v) => v.state === State.AVAILABLE && v.memoryBytes > 0).map((v) => v.memoryBytes) ?? []);
  return sizes.length > 0 ? Math.max(...sizes) : UNMEASURED_MODEL_BYTES;
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
  /** The last round's scaling verdict (also in Redis for DescribeCluster); scalingGauges() turns it into metrics. */
  lastScaling?: ScalingStatus;

  constructor(
    private readonly id: string,
    private readonly state: ClusterState,
    private readonly view: WorkerView,
    private readonly periodMs: number,
    private readonly log: (message: string) => void,
    private readonly scaler = new ClusterScaler(),
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
    const models: PlacementModel[] = [...this.view.catalog.values()].map((entry) => ({
      name: entry.name,
      replicas: stored.replicas[entry.name] ?? { min: 1, max: 1 },
      memoryBytes: measuredBytes(this.view.workers, entry.name),
    }));
    const placementWorkers: PlacementWorker[] = workers.map((w) => ({
      id: w.id,
      budgetBytes: w.capacity.memoryBytes * MODEL_MEMORY_SHARE,
      lastUsedAt: Object.fromEntries(w.models.map((m) => [m.name, m.lastUsedAt])),
    }));
    const written = await this.state.assignments(workers.map((w) => w.id));
    const current = { ...written };
    // After a Redis restart or flush, what workers hold is the best record of where models are.
    for (const w of workers) current[w.id] ??= w.models.filter((m) => m.versions.length > 0).map((m) => m.name);
    const now = Date.now();
    const decisions = this.scaler.plan(models, this.view.workers, current, await this.state.demandSince(now - DEMAND_MEMORY_MS), now);
    const { assignments, unplaced } = placeModels(models, placementWorkers, current);
    for (const w of this.view.workers.filter((w) => w.draining)) assignments[w.id] = [];
    this.lastUnplaced = unplaced;
    const budgets = new Map(placementWorkers.map((w) => [w.id, w.budgetBytes]));
    this.lastScaling = this.scaler.status(models, decisions, workers.map((report) => ({ report, budgetBytes: budgets.get(report.id)! })), assignments, unplaced, now);
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
