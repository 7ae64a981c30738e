import { availableVersions, type ClusterState, type ScalingStatus, type WorkerReport } from '@maas/cluster-state';
import { observeReplicas, recentTraffic, type GrpcHealth, type ModelTraffic } from '@maas/telemetry';
import { wantedReplicas } from '../cluster/placement.js';
import type { WorkerView } from '../cluster/worker-view.js';

/** A batch job as the dashboard shows it (filled by whoever runs batch jobs; see DashboardSources). */
export interface BatchJobProgress {
  id: string;
  model: string;
  state: string;
  totalRows: number;
  rowsDone: number;
  rowsFailed: number;
}

export interface WorkerSnapshot {
  id: string;
  address: string;
  cores: number;
  memoryBytes: number;
  /** Execution providers: the device it computes on (cpu, cuda, webgpu, ...). */
  providers: string[];
  inFlight: number;
  draining: boolean;
  reportedAgoMs: number;
  models: Array<{ name: string; versions: Array<{ version: number; state: number; memoryBytes: number }> }>;
}

export interface ModelSnapshot {
  name: string;
  /** Versions AVAILABLE somewhere in the cluster, newest first. */
  versions: number[];
  replicasWanted: number;
  replicasReady: number;
  /** Workers holding any version of it. */
  placedOn: string[];
  traffic?: ModelTraffic;
}

export interface ClusterSnapshot {
  at: number;
  workers: WorkerSnapshot[];
  models: ModelSnapshot[];
  /** Requests waiting or running per worker (its last report). */
  queues: Array<{ worker: string; inFlight: number }>;
  /** Undefined when this scheduler has no batch-job source (none are shown). */
  batchJobs?: BatchJobProgress[];
}

export interface DashboardSources {
  view: WorkerView;
  state: ClusterState;
  /** Batch jobs with their progress, newest first; absent where batch jobs are not run. */
  batchJobs?: () => Promise<BatchJobProgress[]>;
}

const ready = (workers: readonly WorkerReport[], model: string) => workers.filter((w) => !w.draining && availableVersions(w, model).length > 0);

/**
 * What the scheduler knows about the cluster, gathered for the dashboard, `maas status`, the
 * replica gauges and per-model health. The placement leader's scaling status (wanted replicas) is
 * re-read from Redis every `refreshMs`; the rest comes from the scheduler's live view.
 */
export class ClusterObserver {
  private scaling?: ScalingStatus;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly sources: DashboardSources,
    private readonly health: GrpcHealth,
    private readonly refreshMs: number,
  ) {}

  start(): void {
    observeReplicas(() => this.models().map((m) => ({ model: m.name, wanted: m.replicasWanted, ready: m.replicasReady })));
    const loop = () => {
      this.timer = setTimeout(() => void this.refresh().finally(loop), this.refreshMs);
    };
    void this.refresh().finally(loop);
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  private async refresh(): Promise<void> {
    this.scaling = await this.sources.state.scalingStatus().catch(() => this.scaling);
    // A model's name is SERVING at the front door while some worker can answer for it.
    for (const model of this.models()) this.health.setModel(model.name, model.replicasReady > 0);
  }

  models(): ModelSnapshot[] {
    const workers = this.sources.view.workers;
    const stored = this.sources.view.storedCatalog;
    const traffic = new Map(recentTraffic.snapshot().map((t) => [t.model, t]));
    return [...this.sources.view.catalog.keys()].sort().map((name) => {
      const range = stored?.replicas[name] ?? { min: 1, max: 1 };
      return {
        name,
        versions: [...new Set(workers.flatMap((w) => availableVersions(w, name)))].sort((a, b) => b - a),
        replicasWanted: this.scaling?.models[name]?.wanted ?? wantedReplicas(range, workers.filter((w) => !w.draining).length),
        replicasReady: ready(workers, name).length,
        placedOn: workers.filter((w) => w.models.some((m) => m.name === name && m.versions.length > 0)).map((w) => w.id),
        traffic: traffic.get(name),
      };
    });
  }

  async snapshot(): Promise<ClusterSnapshot> {
    const now = Date.now();
    const workers = this.sources.view.workers;
    return {
      at: now,
      workers: workers.map((w) => ({
        id: w.id,
        address: w.address,
        cores: w.capacity.cores,
        memoryBytes: w.capacity.memoryBytes,
        providers: w.capacity.providers,
        inFlight: w.inFlight,
        draining: w.draining,
        reportedAgoMs: now - w.reportedAt,
        models: w.models.map((m) => ({ name: m.name, versions: m.versions.map((v) => ({ version: v.version, state: v.state, memoryBytes: v.memoryBytes })) })),
      })),
      models: this.models(),
      queues: workers.map((w) => ({ worker: w.id, inFlight: w.inFlight })),
      batchJobs: await this.sources.batchJobs?.(),
    };
  }
}
